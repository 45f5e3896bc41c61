"""Readers: one per input kind, each turning a file's bytes into lines of text.

The table parsers read one form only: lines of text in which a table row's cells are
separated by tabs. A reader brings each kind of input to that form:

- ``text``: plain text (UTF-8 or GB18030); other renderings of the tables in it (one cell
  per line ending in `` |``, markdown pipe rows, space-aligned columns) are turned into tab
  rows by ``renderings``;
- ``pdf``: a PDF with a text layer; ruled tables become tab rows, the rest lines of text;
- ``html``: a web page; ``<table>`` rows become tab rows (``rowspan``/``colspan`` spread out),
  headings and paragraphs lines of text.

The kind is told by the bytes (``%PDF-``, ``<html``/``<table``), not by the file name, so a
mis-named file is still read for what it is.
"""
from __future__ import annotations

import re
from ..decode import decode_bytes
from .lines import Lines


_HTML = re.compile(rb"<(?:!doctype\s+html|html|table|body)\b", re.IGNORECASE)


def input_kind(data: bytes, name: str = "") -> str:
    """``pdf``, ``html`` or ``text``, from the first bytes of a file.

    >>> input_kind(b"%PDF-1.7 ...")
    'pdf'
    >>> input_kind("<html><table><tr><td>项目</td></tr></table>".encode())
    'html'
    """
    head = data[:1024]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-") or b"%PDF-" in head[:16]:
        return "pdf"
    if _HTML.search(data[:4096]):
        return "html"
    return "text"


def read_bytes(data: bytes, name: str) -> Lines:
    """Read a document's bytes with the reader its kind calls for. Raises DocumentError."""
    from .html import read_html
    from .pdf import read_pdf
    from .text import read_text_lines

    readers = {"pdf": read_pdf, "html": read_html, "text": read_text_lines}
    kind = input_kind(data, name)
    if kind == "text" and name.lower().endswith(".pdf"):
        return _misnamed_pdf(data, name)
    return readers[kind](data, name)


def _misnamed_pdf(data: bytes, name: str) -> Lines:
    """A ``.pdf`` without the PDF header: text under the wrong name is read as text, anything else refused."""
    from ...errors import DocumentError
    from .text import read_text_lines

    if not data.strip():
        raise DocumentError(f"{name}: empty file")
    try:
        decode_bytes(data, name)
    except DocumentError:
        raise DocumentError(f"{name}: not a PDF (it does not start with %PDF-) and not text; "
                            "is the file damaged or only partly downloaded?") from None
    return read_text_lines(data, name)


__all__ = ["Lines", "input_kind", "read_bytes"]
