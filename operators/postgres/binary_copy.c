/* The rows of a binary COPY (FORMAT binary), decoded column by column into Arrow buffers.
 *
 * Loaded with ctypes by operators/postgres/binary_copy.py. binary_copy_sizes walks the rows once
 * to count them and size each variable-width column; binary_copy_decode walks them again and
 * writes every column's values and validity bitmap into buffers the caller allocated. A value
 * this decoder does not take exactly (a numeric that would need rounding or does not fit, an
 * infinite date or timestamp) makes the decode stop with BINARY_COPY_TEXT: the caller then
 * reads the rows in text form, whose converters know those cases. No Python API.
 */
#include <stdint.h>
#include <string.h>

enum kind {
    K_INT2 = 1, K_INT4 = 2, K_INT8 = 3, K_FLOAT4 = 4, K_FLOAT8 = 5, K_BOOL = 6,
    K_BYTES = 7,        /* text, varchar, bpchar, bytea, or any column selected ::text */
    K_NUMERIC = 8,      /* into decimal128 of the column's precision and scale */
    K_TIMESTAMP_US = 9, K_TIMESTAMP_MS = 10, K_DATE = 11,
};

#define BINARY_COPY_OK 0
#define BINARY_COPY_MALFORMED -1
#define BINARY_COPY_TEXT -2

static const char SIGNATURE[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (char)0xff, '\r', '\n', '\0'};

/* microseconds and days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch */
#define EPOCH_SHIFT_US INT64_C(946684800000000)
#define EPOCH_SHIFT_DAYS 10957

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Where the first row starts (after the signature, flags and header extension), or -1. */
static int64_t first_row(const uint8_t *buf, int64_t size) {
    if (size < 19 || memcmp(buf, SIGNATURE, 11) != 0) return -1;
    int64_t at = 19 + (int64_t)be32(buf + 15);
    return at <= size ? at : -1;
}

static int fixed_width(int kind) {
    switch (kind) {
    case K_INT2: return 2;
    case K_INT4: case K_FLOAT4: case K_DATE: return 4;
    case K_INT8: case K_FLOAT8: case K_TIMESTAMP_US: case K_TIMESTAMP_MS: return 8;
    case K_BOOL: return 1;
    default: return -1; /* variable or numeric */
    }
}

/* Counts the rows into *rows and adds each K_BYTES column's bytes to totals[c]; checks the
 * framing (every row has `columns` fields, fixed-width fields their width, a trailer ends it). */
int binary_copy_sizes(const uint8_t *buf, int64_t size, int columns, const int32_t *kinds, int64_t *totals,
                      int64_t *rows) {
    int64_t at = first_row(buf, size), count = 0;
    if (at < 0) return BINARY_COPY_MALFORMED;
    for (;;) {
        if (at + 2 > size) return BINARY_COPY_MALFORMED;
        int16_t fields = (int16_t)be16(buf + at);
        at += 2;
        if (fields == -1) break;
        if (fields != columns) return BINARY_COPY_MALFORMED;
        for (int c = 0; c < columns; c++) {
            if (at + 4 > size) return BINARY_COPY_MALFORMED;
            int32_t length = (int32_t)be32(buf + at);
            at += 4;
            if (length == -1) continue;
            if (length < 0 || at + length > size) return BINARY_COPY_MALFORMED;
            int width = fixed_width(kinds[c]);
            if (width > 0 && length != width) return BINARY_COPY_MALFORMED;
            if (kinds[c] == K_BYTES) totals[c] += length;
            at += length;
        }
        count++;
    }
    *rows = count;
    return BINARY_COPY_OK;
}

static __int128 pow10_128(int n) {
    __int128 v = 1;
    while (n-- > 0) v *= 10;
    return v;
}

/* A decimal column's bounds: 10^precision, and (10^precision - 1) / 10^k for k = 0..4, the
 * largest value that may be multiplied by 10^k (divisions of 128-bit integers are slow: done
 * once per column, not per digit). */
struct decimal_bounds {
    __int128 limit;
    __int128 below[5];
};

static struct decimal_bounds bounds_of(int precision) {
    struct decimal_bounds b;
    b.limit = pow10_128(precision);
    for (int k = 0; k < 5; k++) b.below[k] = (b.limit - 1) / pow10_128(k);
    return b;
}

/* *acc = *acc * 10^k + add, unless that reaches the limit (acc, add >= 0). */
static int scale_up(__int128 *acc, int k, int32_t add, const struct decimal_bounds *b) {
    static const int32_t POW10[5] = {1, 10, 100, 1000, 10000};
    if (*acc > b->below[k]) return BINARY_COPY_TEXT;
    *acc = *acc * POW10[k] + add;
    return *acc < b->limit ? BINARY_COPY_OK : BINARY_COPY_TEXT;
}

/* A numeric's binary form (base-10000 digits, the first at 10000^weight) as the unscaled integer
 * of a decimal(precision, scale); BINARY_COPY_TEXT for NaN, infinities, a value that needs
 * rounding to the scale or has more digits than the precision. */
static int numeric_value(const uint8_t *p, int32_t length, const struct decimal_bounds *bounds, int scale,
                         __int128 *out) {
    static const int32_t POW10[5] = {1, 10, 100, 1000, 10000};
    if (length < 8) return BINARY_COPY_MALFORMED;
    int ndigits = (int16_t)be16(p), weight = (int16_t)be16(p + 2);
    uint16_t sign = be16(p + 4);
    if (sign != 0x0000 && sign != 0x4000) return BINARY_COPY_TEXT;
    if (ndigits < 0 || length != 8 + 2 * ndigits) return BINARY_COPY_MALFORMED;
    __int128 acc = 0;
    int exponent = 0; /* the power of ten of acc's unit */
    for (int i = 0; i < ndigits; i++) {
        int32_t digit = (int16_t)be16(p + 8 + 2 * i);
        int e = 4 * (weight - i) + scale; /* the power of ten of this digit's unit, scaled */
        if (e >= 0) {
            if (scale_up(&acc, 4, digit, bounds) != BINARY_COPY_OK) return BINARY_COPY_TEXT;
            exponent = e;
        } else if (e > -4) {
            if (digit % POW10[-e] != 0) return BINARY_COPY_TEXT;
            if (scale_up(&acc, 4 + e, digit / POW10[-e], bounds) != BINARY_COPY_OK) return BINARY_COPY_TEXT;
            exponent = 0;
        } else if (digit != 0) {
            return BINARY_COPY_TEXT;
        }
    }
    for (; acc != 0 && exponent > 0; exponent--) {
        if (scale_up(&acc, 1, 0, bounds) != BINARY_COPY_OK) return BINARY_COPY_TEXT;
    }
    *out = sign == 0x4000 ? -acc : acc;
    return BINARY_COPY_OK;
}

/* One non-NULL value of column kind into values (fixed width: at row; K_BYTES: appended at
 * *data_used, its end written to offsets[row + 1]). */
static int decode_value(int kind, const uint8_t *p, int32_t length, int64_t row, uint8_t *values, int32_t *offsets,
                        int64_t *data_used, const struct decimal_bounds *bounds, int scale) {
    switch (kind) {
    case K_INT2: ((uint16_t *)values)[row] = be16(p); return BINARY_COPY_OK;
    case K_INT4: case K_FLOAT4: ((uint32_t *)values)[row] = be32(p); return BINARY_COPY_OK;
    case K_INT8: case K_FLOAT8: ((uint64_t *)values)[row] = be64(p); return BINARY_COPY_OK;
    case K_BOOL:
        if (p[0]) values[row >> 3] |= (uint8_t)(1u << (row & 7));
        return BINARY_COPY_OK;
    case K_BYTES:
        memcpy(values + *data_used, p, (size_t)length);
        *data_used += length;
        offsets[row + 1] = (int32_t)*data_used;
        return BINARY_COPY_OK;
    case K_NUMERIC: {
        __int128 v;
        int status = numeric_value(p, length, bounds, scale, &v);
        if (status == BINARY_COPY_OK) memcpy(values + 16 * row, &v, 16);
        return status;
    }
    case K_TIMESTAMP_US: case K_TIMESTAMP_MS: {
        int64_t us = (int64_t)be64(p);
        if (us == INT64_MAX || us == INT64_MIN || us > INT64_MAX - EPOCH_SHIFT_US) return BINARY_COPY_TEXT;
        us += EPOCH_SHIFT_US;
        if (kind == K_TIMESTAMP_MS) {
            if (us % 1000 != 0) return BINARY_COPY_TEXT;
            us /= 1000;
        }
        ((int64_t *)values)[row] = us;
        return BINARY_COPY_OK;
    }
    case K_DATE: {
        int32_t days = (int32_t)be32(p);
        if (days == INT32_MAX || days == INT32_MIN || days > INT32_MAX - EPOCH_SHIFT_DAYS) return BINARY_COPY_TEXT;
        ((int32_t *)values)[row] = days + EPOCH_SHIFT_DAYS;
        return BINARY_COPY_OK;
    }
    default: return BINARY_COPY_MALFORMED;
    }
}

/* Fills, per column c: values[c] (fixed width: rows values; bool: a bitmap, zeroed; numeric: 16
 * bytes a row; K_BYTES: the bytes, offsets[c] its rows + 1 offsets), validity[c] (a bitmap,
 * zeroed) and null_counts[c]. precisions/scales: of numeric columns. The buffer was checked by
 * binary_copy_sizes. */
int binary_copy_decode(const uint8_t *buf, int64_t size, int columns, const int32_t *kinds,
                       const int32_t *precisions, const int32_t *scales, uint8_t **values, int32_t **offsets,
                       uint8_t **validity, int64_t *null_counts) {
    int64_t at = first_row(buf, size);
    int64_t data_used[columns > 0 ? columns : 1];
    struct decimal_bounds bounds[columns > 0 ? columns : 1];
    for (int c = 0; c < columns; c++) {
        data_used[c] = 0;
        if (kinds[c] == K_NUMERIC) bounds[c] = bounds_of(precisions[c]);
        null_counts[c] = 0;
        if (kinds[c] == K_BYTES) offsets[c][0] = 0;
    }
    for (int64_t row = 0;; row++) {
        int16_t fields = (int16_t)be16(buf + at);
        at += 2;
        if (fields == -1) return BINARY_COPY_OK;
        for (int c = 0; c < columns; c++) {
            int32_t length = (int32_t)be32(buf + at);
            at += 4;
            if (length == -1) {
                null_counts[c]++;
                if (kinds[c] == K_BYTES) offsets[c][row + 1] = (int32_t)data_used[c];
                continue;
            }
            validity[c][row >> 3] |= (uint8_t)(1u << (row & 7));
            int status = decode_value(kinds[c], buf + at, length, row, values[c], offsets[c], &data_used[c],
                                      &bounds[c], scales[c]);
            if (status != BINARY_COPY_OK) return status;
            at += length;
        }
    }
}
