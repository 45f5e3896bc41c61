"""Reading document bytes as text: UTF-8 (with or without BOM) or GB18030/GBK.

charset-normalizer does the detection; we only accept the encodings budget
documents are published in, so a binary file or an unknown encoding is refused
with a clear message instead of producing mojibake records.
"""
from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from ..errors import DocumentError, Unreadable

ACCEPTED = ("utf_8", "utf_8_sig", "gb18030", "gbk", "gb2312", "big5", "hz", "ascii")
UTF16 = ("utf_16", "utf_16_le", "utf_16_be")
_BOMS = ((b"\xff\xfe", "utf_16_le"), (b"\xfe\xff", "utf_16_be"))


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    return b"\x00" in sample


def decode_bytes(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding) or raise DocumentError naming the file."""
    if not data.strip():
        raise DocumentError(f"{name}: empty file")
    for bom, encoding in _BOMS:  # Windows "Unicode" text: NUL bytes, but text
        if data.startswith(bom) and not data.startswith(b"\xff\xfe\x00\x00"):
            return _utf16(data[2:], encoding, name)
    if _looks_binary(data):
        best = from_bytes(data[:65536]).best()
        if best is not None and best.encoding in UTF16 and len(data) % 2 == 0:
            encoding = best.encoding if best.encoding != "utf_16" else "utf_16_le"
            if _reads_as_text(data[:65536].decode(encoding, errors="replace")):
                return _utf16(data, encoding, name)
        raise DocumentError(f"{name}: binary file, not a text budget document "
                            "(PDF and HTML are read too; save a Word or Excel file as PDF)")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf_8_sig"
    try:
        return data.decode("utf-8"), "utf_8"
    except UnicodeDecodeError as exc:
        # A file cut in the middle of a multi-byte character is still UTF-8.
        if exc.start >= len(data) - 3:
            return data.decode("utf-8", errors="replace"), "utf_8"
    best = from_bytes(data).best()
    if best is None or best.encoding not in ACCEPTED:
        found = best.encoding if best else "unknown"
        raise DocumentError(f"{name}: unsupported encoding ({found}); save it as UTF-8 or GB18030")
    encoding = "gb18030" if best.encoding in ("gbk", "gb2312") else best.encoding
    return data.decode(encoding, errors="replace"), encoding


def _reads_as_text(text: str) -> bool:
    """BOM-less UTF-16 is only a guess: believe it when the text has lines and is nearly all
    Chinese, ASCII, whitespace or CJK punctuation (random bytes decode to scattered CJK too)."""
    if "\n" not in text:
        return False
    plain = sum(1 for ch in text if ch.isascii() and (ch.isprintable() or ch in "\t\r\n")
                or "\u3000" <= ch <= "\u303f" or "\u4e00" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return plain >= 0.95 * len(text)


def _utf16(data: bytes, encoding: str, name: str) -> tuple[str, str]:
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        raise DocumentError(f"{name}: not valid {encoding.replace('_', '-').upper()} text; save it as UTF-8") from None


def read_text(path: Path) -> tuple[str, str]:
    """Read a document file as text, detecting its encoding."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read ({exc.strerror})") from None
    return decode_bytes(data, str(path))
