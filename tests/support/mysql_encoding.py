"""MySQL values encoded as the server writes them, for the decoders' tests (written from the
formats, independent of the decoders)."""

from __future__ import annotations


def decimal_bytes(digits: str, precision: int, scale: int) -> bytes:
    """NEWDECIMAL as the server writes it (decimal2bin), for a digit string like '-12.5'."""
    negative = digits.startswith("-")
    whole, _, frac = digits.lstrip("-").partition(".")
    frac = frac.ljust(scale, "0")
    intg = precision - scale
    whole = whole.rjust(intg, "0")
    sizes = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)
    groups = [whole[:intg % 9]] + [whole[intg % 9 + 9 * i:intg % 9 + 9 * i + 9] for i in range(intg // 9)]
    groups += [frac[9 * i:9 * i + 9] for i in range(scale // 9)] + [frac[scale // 9 * 9:]]
    out = b"".join(int(g or "0").to_bytes(sizes[len(g)], "big") for g in groups if g)
    if negative:
        out = bytes(b ^ 0xFF for b in out)
    return bytes([out[0] ^ 0x80]) + out[1:]
