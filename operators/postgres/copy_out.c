/* The rows of a COPY ... TO STDOUT, drained into one buffer.
 *
 * Loaded with ctypes by operators/postgres/copy_out.py, which sends the query and reads the
 * results; this loop only moves the rows. libpq's functions come as pointers (those psycopg2
 * is linked with), so nothing here needs libpq's headers or links to it. Called without the
 * interpreter lock: no Python API.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef void (*free_mem_fn)(void *ptr);

/* Reads rows with get (PQgetCopyData, blocking) until the copy ends, appending them to a
 * malloc'd buffer that starts at capacity bytes and doubles as needed. *out receives the buffer
 * (NULL on failure; the caller frees it with copy_out_free) and *size its length. Returns 0 when
 * the copy ended (the caller then reads its result), -2 when libpq reported an error, -3 when
 * memory ran out. */
int copy_out_drain(void *conn, get_copy_data_fn get, free_mem_fn free_mem, int64_t capacity,
                   char **out, int64_t *size) {
    int64_t used = 0, room = capacity > 0 ? capacity : 1 << 20;
    char *data = malloc((size_t)room);
    *out = NULL;
    *size = 0;
    if (data == NULL) return -3;
    for (;;) {
        char *row = NULL;
        int length = get(conn, &row, 0);
        if (length == -1) break;
        if (length < 0) {
            free(data);
            return -2;
        }
        if (used + length > room) {
            while (used + length > room) room *= 2;
            char *grown = realloc(data, (size_t)room);
            if (grown == NULL) {
                free_mem(row);
                free(data);
                return -3;
            }
            data = grown;
        }
        memcpy(data + used, row, (size_t)length);
        used += length;
        free_mem(row);
    }
    *out = data;
    *size = used;
    return 0;
}

void copy_out_free(char *data) {
    free(data);
}
