"""NEWDECIMAL's binary form (``decimal2bin``): groups of nine digits in four big-endian bytes, as
the binlog carries a DECIMAL column and MySQL's binary JSON an opaque decimal."""

from __future__ import annotations

import numpy as np

DIG2BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


def be_uint(mat: np.ndarray) -> np.ndarray:
    """Each row of a uint8 matrix as one big-endian unsigned integer (int64)."""
    out = np.zeros(mat.shape[0], np.int64)
    for i in range(mat.shape[1]):
        out = (out << 8) | mat[:, i]
    return out


def decimal_width(precision: int, scale: int) -> int:
    """Bytes of a DECIMAL(precision, scale) value."""
    intg = precision - scale
    return intg // 9 * 4 + DIG2BYTES[intg % 9] + scale // 9 * 4 + DIG2BYTES[scale % 9]


def decimal_unscaled(mat: np.ndarray, precision: int, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(unscaled magnitudes, negative flags) of NEWDECIMAL values: groups of 9 digits in 4 bytes
    big-endian, a leading and a trailing partial group, sign in the inverted top bit, negative
    values stored with every byte inverted."""
    raw = np.array(mat, np.uint8)
    negative = (raw[:, 0] & 0x80) == 0
    raw[:, 0] ^= 0x80
    raw ^= np.where(negative, 0xFF, 0).astype(np.uint8)[:, None]
    intg = precision - scale
    groups = [intg % 9] + [9] * (intg // 9) + [9] * (scale // 9) + [scale % 9]
    acc = np.zeros(len(raw), np.int64 if precision <= 18 else object)
    p = 0
    for digits in groups:
        width = DIG2BYTES[digits]
        if width:
            acc = acc * 10 ** digits + be_uint(raw[:, p:p + width]).astype(acc.dtype)
            p += width
    return acc, negative


def decimal_text(unscaled: int, negative: bool, scale: int) -> str:
    """The digits of an unscaled value as MySQL prints them (``-0.50``, ``0.00``)."""
    digits = str(unscaled).rjust(scale + 1, "0")
    text = f"{digits[:-scale]}.{digits[-scale:]}" if scale else digits
    return "-" + text if negative and unscaled else text
