"""Search results to take away: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) and .xlsx (openpyxl).

A document's text may begin with ``=``, ``+``, ``-`` or ``@``; a spreadsheet would run it as a
formula (``=HYPERLINK(…)``). In the CSV such a cell is prefixed with ``'`` (OWASP's advice); in the
workbook every text cell is stored as text, never as a formula.
"""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..search import SpreadsheetSafeWriter
from .params import labels

CELL_CHARS = 32_767  # the most a workbook cell holds (Excel's limit: a file with more is reported as damaged)


def cell_text(value: str) -> str:
    """A text as a workbook cell takes it: control characters left out (openpyxl refuses them), and a text longer
    than a cell cut, its last character an ellipsis that says so."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value if len(value) <= CELL_CHARS else value[:CELL_CHARS - 1] + "…"

def rows(hits) -> tuple[list[str], list[list]]:
    """The header (Chinese labels) and one row per hit, in the columns of ``labels.json``'s ``download_columns``."""
    columns = labels()["download_columns"]
    titles = {**labels()["fields"], "rank": "排名", "score": "相关度"}  # a hit's score, not a self-evaluation's
    body = []
    for hit in hits:
        data = hit.to_dict()
        data["kind"] = labels()["kinds"].get(data.get("kind"), data.get("kind"))
        body.append([data.get(c) for c in columns])
    return [titles.get(c, c) for c in columns], body


def csv_bytes(hits) -> bytes:
    header, body = rows(hits)
    buffer = io.StringIO()
    writer = SpreadsheetSafeWriter(buffer)
    writer.writerow(header)
    for row in body:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(hits, title: str = "搜索结果") -> bytes:
    header, body = rows(hits)
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(header)
    for row in body:
        sheet.append([cell_text(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: openpyxl would store "=…" as a formula
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
