"""What every reader returns: a document as lines of text."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Lines:
    """A document as lines of text, with the page each line came from when the input has pages."""

    lines: list[str]
    kind: str
    encoding: str | None = None
    pages: list[int] | None = None
    page_count: int | None = None
    textless_pages: list[int] | None = None  # pages with no text layer in a PDF that has one elsewhere
