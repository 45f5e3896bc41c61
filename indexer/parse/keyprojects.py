"""The key-project table (重点项目预算绩效目标情况 / 重点项目预算绩效情况说明).

Three columns: 项目, 预算数, 绩效目标. Amounts come as ``12,000``, ``100万元`` or
``125 万元``; cells may be wrapped in ``<p>``; a goal that runs past a page break
continues on a later line whose first two cells are empty (深圳 2023).
"""
from __future__ import annotations

import re

from .entries import Entry, TableResult
from .layout import Table, table_rules
from ..records import Skip
from .text import clean_cell, is_damaged, parse_amount

SECTION = "key_project"
_SEPARATOR = re.compile(r"^-+$")


def parse_key_projects(table: Table, source: str, department: str) -> TableResult:
    """Turn the rows of one key-project table into Entries and Skips."""
    result = TableResult()
    previous: Entry | None = None
    for row in table.rows:
        result.rows_read += 1
        cells = [clean_cell(c) for c in row.cells] + ["", "", ""]
        name, amount_text, goal = cells[0], cells[1], " ".join(c for c in cells[2:] if c)
        raw = row.raw[:120]
        if name in table_rules()["header_first_cells"]:
            result.skips.append(Skip(source, row.line, SECTION, "header row", raw))
            continue
        if all(_SEPARATOR.match(c) for c in cells if c) and any(cells):
            result.skips.append(Skip(source, row.line, SECTION, "separator row", raw))
            continue
        if not name and not amount_text:
            if previous is None or not goal:
                result.skips.append(Skip(source, row.line, SECTION, "row without project name or amount", raw))
                continue
            previous.goal = previous.goal + goal
            previous.lines.append(row.line)
            previous.absorbed.append(Skip(source, row.line, SECTION, f"continuation of the goal on line {previous.line}", raw))
            continue
        amount = parse_amount(amount_text)
        if not name or amount is None:
            reason = "row without a project name" if not name else f"amount not readable: {amount_text!r}"
            result.skips.append(Skip(source, row.line, SECTION, reason, raw))
            continue
        previous = Entry(section=SECTION, line=row.line, name=name, amount=amount, goal=goal,
                         unit="", amounts={"预算数": amount}, precise="." in amount_text)
        if is_damaged(row.raw):
            previous.warnings.append("text damaged in extraction (U+FFFD removed)")
        result.entries.append(previous)
    return result
