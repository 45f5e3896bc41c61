"""How ``records.db`` stores a record's JSON: deflated with a preset dictionary (store format 2).

A record's JSON is ~1.4 KB, mostly its goal in UTF-8 (three bytes a character), and was ~65 % of
``records.db`` (144 of 220 MB at 100k synthetic records). Deflated alone it keeps ~60 % of its size;
primed with a preset dictionary, the last 32 KB of the JSON of records taken at an even step through
the store (the keys and defaults every record repeats, the names and phrases budget goals share),
deflate (RFC 1951, the stdlib's ``zlib``) keeps ~25 % on the synthetic 100k and less of a gain on
real documents (both measured in ``benchmarks/README.md``). The dictionary is stored in the file's
``meta``. Reading a record inflates it, ~25 µs, only for the records a search shows.
"""
from __future__ import annotations

import zlib
from typing import Callable

DICTIONARY_BYTES = 32 * 1024  # deflate's window: a longer preset dictionary is never referred to
LEVEL = 6
RAW = -15  # raw deflate, no zlib header or checksum: the row's SHA-256 digest checks the text


def dictionary_of(texts: list[bytes]) -> bytes:
    """A preset dictionary for ``texts``: the last ``DICTIONARY_BYTES`` of up to 256 of them taken at an
    even step (deflate refers back at most 32 KB, and the bytes nearest the record are matched best)."""
    step = max(1, len(texts) // 256)
    return b"".join(texts[::step])[-DICTIONARY_BYTES:]


def deflater(dictionary: bytes) -> Callable[[bytes], bytes]:
    """A function deflating one text with ``dictionary``: each call copies one primed compressor, since
    priming it (hashing the 32 KB) costs more than compressing a record."""
    primed = zlib.compressobj(LEVEL, zlib.DEFLATED, RAW, 9, zlib.Z_DEFAULT_STRATEGY, dictionary)

    def deflate(text: bytes) -> bytes:
        compressor = primed.copy()
        return compressor.compress(text) + compressor.flush()
    return deflate


class Inflater:
    """Inflates what ``deflater`` made with the same dictionary: the text, or None when the bytes are not
    deflate of UTF-8 (damaged)."""

    def __init__(self, dictionary: bytes) -> None:
        self._primed = zlib.decompressobj(RAW, zdict=dictionary)

    def __call__(self, data: bytes) -> str | None:
        try:
            inflater = self._primed.copy()
            text = inflater.decompress(data) + inflater.flush()
        except (zlib.error, TypeError):
            return None
        if not inflater.eof:  # cut short: not the whole of a deflated text
            return None
        try:
            return text.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None
