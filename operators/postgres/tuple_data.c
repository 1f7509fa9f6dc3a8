/* pgoutput TupleData of many messages, column by column, into Arrow string buffers.
 *
 * Loaded with ctypes by operators/postgres/tuple_data.py, which documents the contract. Message m
 * holds a TupleData at buf[tuples[m]] (Int16 column count, then per column a kind byte: 'n' NULL,
 * 'u' unchanged TOASTed value, 't' Int32 length + text) that lies before ends[m]. Any other shape,
 * a binary value ('b') included, makes tuple_data_sizes return -1 so that the caller decodes
 * those messages one by one and reports the error there.
 * No allocation, no Python API: the caller owns every buffer.
 */
#include <stdint.h>
#include <string.h>

static int32_t be32(const uint8_t *p) {
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

/* Checks every message's TupleData and adds each column's text bytes to totals[column] (zeroed
 * by the caller). With stops NULL each TupleData must end exactly at ends[m]; otherwise it may end
 * before, and stops[m] receives where it ends. Returns 0, or -1 when a message is not as expected. */
int tuple_data_sizes(const uint8_t *buf, const int64_t *tuples, const int64_t *ends, int64_t count,
                     int32_t columns, int64_t *totals, int64_t *stops) {
    for (int64_t m = 0; m < count; m++) {
        int64_t pos = tuples[m], end = ends[m];
        if (pos + 2 > end || (((int32_t)buf[pos] << 8) | buf[pos + 1]) != columns) return -1;
        pos += 2;
        for (int32_t c = 0; c < columns; c++) {
            if (pos >= end) return -1;
            uint8_t kind = buf[pos++];
            if (kind == 't') {
                if (pos + 4 > end) return -1;
                int32_t length = be32(buf + pos);
                pos += 4;
                if (length < 0 || length > end - pos) return -1;
                pos += length;
                totals[c] += length;
            } else if (kind != 'n' && kind != 'u') {
                return -1;
            }
        }
        if (stops != NULL) {
            stops[m] = pos;
        } else if (pos != end) {
            return -1;
        }
    }
    return 0;
}

/* Fills, for every column c: offsets[c * (count + 1) ...] (its count + 1 Int32 Arrow offsets),
 * data[data_starts[c] ...] (its text bytes, sized by tuple_data_sizes), validity[c * bitmap ...]
 * (an Arrow bitmap of bitmap = (count + 7) / 8 bytes, zeroed by the caller: 1 for a text value)
 * and unchanged[c * count ...] (1 for 'u', else 0). Only after tuple_data_sizes accepted the same
 * messages: this one trusts their shape. */
void tuple_data_columns(const uint8_t *buf, const int64_t *tuples, int64_t count, int32_t columns,
                        int32_t *offsets, uint8_t *data, const int64_t *data_starts, uint8_t *validity,
                        uint8_t *unchanged) {
    int64_t bitmap = (count + 7) / 8;
    for (int32_t c = 0; c < columns; c++) offsets[c * (count + 1)] = 0;
    for (int64_t m = 0; m < count; m++) {
        int64_t pos = tuples[m] + 2;
        for (int32_t c = 0; c < columns; c++) {
            int32_t *column_offsets = offsets + c * (count + 1);
            uint8_t kind = buf[pos++];
            int32_t at = column_offsets[m];
            if (kind == 't') {
                int32_t length = be32(buf + pos);
                pos += 4;
                memcpy(data + data_starts[c] + at, buf + pos, (size_t)length);
                pos += length;
                at += length;
                validity[c * bitmap + (m >> 3)] |= (uint8_t)(1u << (m & 7));
            }
            unchanged[c * count + m] = kind == 'u';
            column_offsets[m + 1] = at;
        }
    }
}
