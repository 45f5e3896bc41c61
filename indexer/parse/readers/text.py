"""The text reader: bytes → lines, in whichever encoding budget documents are published in.

Other renderings of the tables (`` |`` cells, markdown rows, aligned columns) are left to
``renderings``, which the document step runs on every reader's lines.
"""
from __future__ import annotations

from ..decode import decode_bytes
from .lines import Lines, split_lines


def read_text_lines(data: bytes, name: str) -> Lines:
    """Decode text (UTF-8 with or without BOM, GB18030/GBK, UTF-16 with BOM) into lines."""
    text, encoding = decode_bytes(data, name)
    return Lines(split_lines(text), "text", encoding=encoding)
