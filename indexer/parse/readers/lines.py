"""What every reader returns: a document as lines of text."""
from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_END = re.compile(r"\r?\n")


def split_lines(text: str) -> list[str]:
    """Lines as a file ends them: at LF or CR LF (at CR in a file that has no LF at all). ``str.splitlines``
    also cuts at a lone CR, U+2028, U+0085 and other separators a cell's text may hold, and a goal cut there
    would lose its end without a word."""
    lines = _LINE_END.split(text) if "\n" in text else text.split("\r")
    return lines[:-1] if lines and lines[-1] == "" else lines


@dataclass
class Lines:
    """A document as lines of text, with the page each line came from when the input has pages."""

    lines: list[str]
    kind: str
    encoding: str | None = None
    pages: list[int] | None = None
    page_count: int | None = None
    textless_pages: list[int] | None = None  # pages with no text layer in a PDF that has one elsewhere
