"""Character sets of binlog columns: collation id -> (charset name, max bytes per character), and
the Python codec that decodes a charset's bytes."""

from __future__ import annotations

from typing import Optional

from operators.cdc.errors import SourceNotReady

BUILTIN_COLLATIONS: dict[int, tuple[str, int]] = {
    8: ("latin1", 1), 47: ("latin1", 1), 48: ("latin1", 1), 49: ("latin1", 1), 5: ("latin1", 1),
    15: ("latin1", 1), 31: ("latin1", 1), 94: ("latin1", 1), 11: ("ascii", 1), 65: ("ascii", 1),
    33: ("utf8mb3", 3), 83: ("utf8mb3", 3), 192: ("utf8mb3", 3), 45: ("utf8mb4", 4), 46: ("utf8mb4", 4),
    224: ("utf8mb4", 4), 255: ("utf8mb4", 4), 63: ("binary", 1),
}
"""The usual collations, for decoding without a server; the connection loads the server's list."""

CODECS = {
    "utf8mb4": "utf-8", "utf8mb3": "utf-8", "utf8": "utf-8", "latin1": "cp1252", "ascii": "ascii",
    "ucs2": "utf-16-be", "utf16": "utf-16-be", "utf16le": "utf-16-le", "utf32": "utf-32-be",
    "cp1250": "cp1250", "cp1251": "cp1251", "cp1256": "cp1256", "cp1257": "cp1257", "cp850": "cp850",
    "cp852": "cp852", "cp866": "cp866", "cp932": "cp932", "latin2": "iso8859-2", "greek": "iso8859-7",
    "hebrew": "iso8859-8", "latin5": "iso8859-9", "latin7": "iso8859-13", "koi8r": "koi8-r",
    "koi8u": "koi8-u", "sjis": "shift_jis", "ujis": "euc-jp", "eucjpms": "euc-jp", "gbk": "gbk",
    "gb2312": "gb2312", "big5": "big5", "euckr": "euc-kr", "tis620": "tis-620", "macroman": "mac-roman",
    "macce": "mac-latin2",
}


def codec(charset: str) -> Optional[str]:
    """The Python codec of a MySQL charset; None for ``binary`` (bytes stay bytes)."""
    if charset == "binary":
        return None
    try:
        return CODECS[charset]
    except KeyError:
        raise SourceNotReady(f"column character set {charset} has no decoder here — convert the column to "
                             f"utf8mb4 (ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4)") from None


def decode_text(value: bytes, charset_codec: str) -> str:
    """Decodes one value; MySQL's latin1 is cp1252 with the 5 bytes cp1252 leaves undefined kept
    as the C1 controls of ISO-8859-1."""
    try:
        return value.decode(charset_codec)
    except UnicodeDecodeError:
        if charset_codec != "cp1252":
            raise
        return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in value)
