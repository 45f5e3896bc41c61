"""The HTML reader: a budget web page → lines, each ``<table>`` row → a tab row.

Headings, paragraphs and other blocks become lines of text in page order, so the table
titles (``部门预算项目支出及其他支出预算表``) and notes (``注：``) stand where the text samples
have them. A table's ``rowspan`` and ``colspan`` are spread out the way the text samples
show merged cells: the text in the first row and column of the span, empty cells in the rest.
A table that holds other tables is page layout, not data: its content is read as blocks.
"""
from __future__ import annotations

import re

from ...errors import DocumentError
from ..decode import decode_bytes
from .lines import Lines

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article", "header",
           "footer", "main", "nav", "blockquote", "pre", "dd", "dt", "dl", "caption", "form", "center", "tr",
           "figure", "figcaption", "aside", "address", "hr"}
_SKIP = {"script", "style", "head", "noscript", "template", "svg", "iframe", "object"}
_SPACE = re.compile(r"\s+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_MAX_SPAN = 100  # a bigger span is a broken page, not a table layout
MAX_SPREAD = 20  # spread cells per cell written, over a whole table: real layouts stay far below


def _text(element) -> str:
    return _SPACE.sub(" ", "".join(element.itertext())).strip()


def _span(cell, attribute: str) -> int:
    try:
        return min(max(int(str(cell.get(attribute, "1")).strip() or 1), 1), _MAX_SPAN)
    except ValueError:
        return 1


def _rows(table) -> list:
    """The ``<tr>`` of this table (in ``thead``, ``tbody``, ``tfoot`` or directly), not of tables inside it."""
    return [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]


def table_rows(table, name: str = "page") -> list[list[str]]:
    """A table's cells row by row, row and column spans spread out (text first, empty cells after).

    Spread cells are counted: a page whose spans would make more than ``MAX_SPREAD`` times its own cells
    (``rowspan="100"`` on every cell) is refused, not spread into gigabytes.
    """
    grid: list[list[str]] = []
    written = cells_seen = 0
    pending: dict[int, int] = {}  # column → rows still covered by a rowspan from above
    for tr in _rows(table):
        row: list[str] = []

        def fill_covered() -> None:
            while len(row) in pending:
                column = len(row)
                row.append("")
                pending[column] -= 1
                if not pending[column]:
                    del pending[column]

        for cell in tr:
            if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                continue
            fill_covered()
            column = len(row)
            cells_seen += 1
            colspan, rowspan = _span(cell, "colspan"), _span(cell, "rowspan")
            row.append(_text(cell).replace("\t", " "))
            row.extend([""] * (colspan - 1))
            if rowspan > 1:
                for covered in range(column, column + colspan):
                    pending[covered] = rowspan - 1
        fill_covered()
        while pending and max(pending) >= len(row):  # spans from above past this row's last cell
            row.append("")
            fill_covered()
        grid.append(row)
        written += len(row)
        if written > MAX_SPREAD * cells_seen + 10_000:
            raise DocumentError(f"{name}: a table whose merged cells (rowspan, colspan) would spread to more than "
                                f"{written:,} cells from {cells_seen:,}; is the page damaged or hostile?")
    return grid


def _walk(element, out: list[str], buffer: list[str], name: str = "page") -> None:
    def flush() -> None:
        text = _SPACE.sub(" ", "".join(buffer)).strip()
        buffer.clear()
        if text:
            out.append(text)

    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag in _SKIP or not tag:
        if element.tail:
            buffer.append(element.tail)
        return
    if tag == "table" and not any(True for _ in element.iterdescendants("table")):
        flush()
        out.append("")
        out.extend("\t".join(row) for row in table_rows(element, name) if any(row))
        out.append("")
    elif tag == "br":
        flush()
    else:
        block = tag in _BLOCKS or tag in ("table", "td", "th", "tbody", "thead", "tfoot")
        if block:
            flush()
        if element.text:
            buffer.append(element.text)
        for child in element:
            _walk(child, out, buffer, name)
        if block:
            flush()
    if element.tail:
        buffer.append(element.tail)


def read_html(data: bytes, name: str) -> Lines:
    """Read an HTML page into lines of text, its tables as tab rows."""
    import lxml.html
    from lxml.etree import ParserError

    text, encoding = decode_bytes(data, name)
    text = _XML_DECLARATION.sub("", text)
    try:
        root = lxml.html.document_fromstring(text)
    except (ParserError, ValueError) as exc:
        raise DocumentError(f"{name}: not readable as HTML ({exc})") from None
    out: list[str] = []
    buffer: list[str] = []
    body = root.find("body")
    _walk(body if body is not None else root, out, buffer, name)
    if buffer:
        out.append(_SPACE.sub(" ", "".join(buffer)).strip())
    return Lines(out, "html", encoding=encoding)
