"""Finding the tables a budget document holds.

A document is text extracted from a PDF: headings, prose, and tables whose cells
are separated by tabs. A table starts at a line naming its title (never a
table-of-contents line, which starts with ``-``) and runs to the next part heading
or note (``注：``). Pages repeat the header row; blank lines separate pages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..files import data_json
from .text import squash


@lru_cache(maxsize=1)
def table_rules() -> dict:
    """The table titles and row vocabularies, loaded once from package data."""
    return data_json("tables.json")


@dataclass
class Row:
    """One tab-separated line of a table, with its 1-based line number."""

    line: int
    cells: list[str]
    raw: str


@dataclass
class Table:
    """The rows of one table section of a document."""

    section: str
    title_line: int
    rows: list[Row]


def _title(line: str) -> str:
    return squash(line.replace("#", "").replace("*", ""))


def _section_of(line: str) -> str | None:
    if line.lstrip().startswith("-"):
        return None
    title = _title(line)
    if not title or len(title) > 40 or title.endswith(("：", ":")) or "如下" in title:
        return None
    for section, titles in table_rules()["sections"].items():
        if any(t in title for t in titles):
            return section
    return None


def _ends_table(line: str) -> bool:
    rules = table_rules()
    stripped = line.strip()
    if "\t" in line or not stripped:
        return False
    if any(stripped.startswith(m) for m in rules["end_markers"]):
        return True
    return bool(re.match(rules["part_heading"], _title(line)))


def find_tables(lines: list[str]) -> list[Table]:
    """Every table of a known section, in document order."""
    tables: list[Table] = []
    current: Table | None = None
    for number, line in enumerate(lines, start=1):
        section = _section_of(line) if "\t" not in line else None
        if section:
            current = Table(section, number, [])
            tables.append(current)
            continue
        if current is None:
            continue
        if _ends_table(line):
            current = None
            continue
        if "\t" in line:
            current.rows.append(Row(number, line.rstrip("\n").split("\t"), line.rstrip("\n")))
    return tables
