"""Cells for spreadsheets: a document's text must never become a formula.

A name, unit or goal may begin with ``=``, ``+``, ``-`` or ``@`` (``=HYPERLINK("http://…","…")``); Excel and
LibreOffice run such a cell of a CSV file as a formula. Following OWASP's advice on CSV injection, a text
cell that starts so gets a leading ``'``, which spreadsheets show as text; numbers are left as they are
(a negative change stays a number). The CLI's ``--format csv`` and the web page's downloads use this.
"""
from __future__ import annotations

import csv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """``value`` as a CSV cell that no spreadsheet runs: text that looks like a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SpreadsheetSafeWriter:
    """``csv.writer`` whose every cell goes through ``spreadsheet_cell``."""

    def __init__(self, stream) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])
