"""The project expenditure table (部门预算项目支出及其他支出预算表).

Rows are units (资金使用单位, no goal, amount = the sum of the projects below),
projects (name, amounts, 绩效目标), 合计 rows and header rows repeated on every
page. Some documents (江门 2021) lose the header and prefix each row with a unit
code and unit name, mark sub-projects with ``--`` and append a table whose digits
are split by spaces; those rows are reported as skips, never guessed at. A goal that
runs past a page break (a PDF row split over two pages) continues on a row whose cells
before the goal column are empty; it is joined to the project above.
"""
from __future__ import annotations

import re

from .entries import Entry, TableResult
from .layout import Row, Table, table_rules
from ..records import Skip
from .text import clean_cell, is_damaged, is_spaced_number, looks_like_amount, parse_amount, squash

SECTION = "expenditure"
_CODE = re.compile(r"^\d{4,}$")


def _header_labels(first: list[str], second: list[str]) -> list[str]:
    """Column labels from the two header rows (``财政拨款`` spans ``合计`` and its parts)."""
    width = max(len(first), len(second))
    first = first + [""] * (width - len(first))
    second = second + [""] * (width - len(second))
    labels, group = [], ""
    for top, bottom in zip(first, second):
        if top:
            group = top
        label = bottom or top
        labels.append(group + label if bottom == "合计" and group else label)
    return labels


def _is_header(cells: list[str]) -> bool:
    first = cells[0] if cells else ""
    if first in table_rules()["header_first_cells"] or first.startswith("支出项目类别"):
        return True
    rest = [c for c in cells if c]
    return not first and bool(rest) and all(parse_amount(c) is None for c in rest) and "合计" in rest


def _continues_goal(cells: list[str], goal_column: int | None) -> bool:
    """A row with text only in the goal column and after it: the rest of a goal from the page before."""
    return (goal_column is not None and len(cells) > goal_column and not any(cells[:goal_column])
            and any(cells[goal_column:]))


def _is_total(name: str) -> bool:
    squashed = squash(name)
    return squashed in table_rules()["total_names"] or squashed.endswith("-小计")


def _looks_like_organisation(name: str) -> bool:
    return squash(name).endswith(tuple(table_rules()["organisation_suffixes"]))


def parse_expenditure(table: Table, source: str, department: str) -> TableResult:
    """Turn the rows of one expenditure table into Entries and Skips."""
    result = TableResult()
    labels: list[str] = []
    pending_header: list[str] | None = None
    has_goal_column = False
    goal_column: int | None = None
    units_above: dict[int, str] = {}  # the last unit cell seen, by the column of the first amount
    rows: list[tuple[Row, Entry]] = []

    def skip(row: Row, reason: str) -> None:
        result.skips.append(Skip(source, row.line, SECTION, reason, row.raw[:120]))

    for row in table.rows:
        result.rows_read += 1
        cells = [clean_cell(c) for c in row.cells]
        if _is_header(cells):
            if pending_header is None:
                pending_header = cells
            else:
                labels = _header_labels(pending_header, cells)
                pending_header = None
            if "绩效目标" in cells:
                has_goal_column, goal_column = True, cells.index("绩效目标")
            skip(row, "header row")
            continue
        pending_header = None
        if any(is_spaced_number(c) for c in row.cells):
            skip(row, "garbled row: digits split by spaces, amounts unreliable")
            continue
        first_amount = next((i for i, c in enumerate(cells) if i > 0 and parse_amount(c) is not None), None)
        if first_amount is None and _continues_goal(cells, goal_column) and rows and rows[-1][1].goal:
            previous = rows[-1][1]
            previous.goal += " ".join(c for c in cells[goal_column:] if c)
            previous.lines.append(row.line)
            previous.absorbed.append(Skip(source, row.line, SECTION, f"continuation of the goal on line {previous.line}",
                                          row.raw[:120]))
            continue
        if first_amount is None:
            skip(row, "no amount in row")
            continue
        name = cells[first_amount - 1].lstrip("-").strip()
        if not name:
            skip(row, "row without a name (column totals)")
            continue
        if looks_like_amount(name):  # the real first amount cell was unreadable: the name is further left
            skip(row, f"amount cell that is not a number goalsearch reads ({name[:24]!r}); the row's amounts are unreliable")
            continue
        if _is_total(name):
            skip(row, "total row (合计)")
            continue
        end = first_amount
        while end < len(cells) and parse_amount(cells[end]) is not None:
            end += 1
        values = [parse_amount(c) for c in cells[first_amount:end]]
        goal = " ".join(c for c in cells[end:] if c)
        unit_cell = cells[first_amount - 2] if first_amount >= 2 and not _CODE.match(cells[first_amount - 2]) else ""
        if first_amount >= 2 and not cells[first_amount - 2]:
            # a merged cell (HTML rowspan, a PDF cell spanning rows) names the unit on its first row only
            unit_cell = units_above.get(first_amount, "")
        elif unit_cell:
            units_above[first_amount] = unit_cell
        amount_labels = labels[first_amount:end] if labels else ["总计"]
        entry = Entry(
            section=SECTION, line=row.line, name=name, amount=values[0], goal=goal, unit=unit_cell,
            amounts={label: value for label, value in zip(amount_labels, values) if label},
            precise="." in cells[first_amount], sub_project=cells[first_amount - 1].startswith("--"),
        )
        if is_damaged(row.raw):
            entry.warnings.append("text damaged in extraction (U+FFFD removed)")
        if any(v is not None and v < 0 for v in values):
            entry.warnings.append("a negative amount, as the document states it")
        rows.append((row, entry))

    _assign_units(rows, has_goal_column, department, result, source)
    return result


def _following_sum(rows: list[tuple[Row, Entry]], start: int, is_group) -> float:
    total = 0.0
    for _, entry in rows[start + 1:]:
        if is_group(entry):
            break
        total += entry.amount or 0.0
    return total


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= max(0.05, abs(a) * 1e-4)


def _assign_units(rows, has_goal_column: bool, department: str, result: TableResult, source: str) -> None:
    """Tell unit rows and parent rows from projects, and give each project its unit.

    A row without a goal in a table that has a goal column is a unit when its
    amount is the sum of the projects below it, or its name is an organisation's;
    a row followed by ``--`` sub-projects that add up to it is their parent.
    """
    def candidate_unit(entry: Entry) -> bool:
        return has_goal_column and not entry.goal

    unit = ""
    for index, (row, entry) in enumerate(rows):
        if candidate_unit(entry):
            below = _following_sum(rows, index, candidate_unit)
            if _close(entry.amount, below) or _looks_like_organisation(entry.name):
                unit = entry.name
                note = "" if _close(entry.amount, below) else f" (amount {entry.amount} ≠ projects below {below:.2f})"
                result.skips.append(Skip(source, row.line, SECTION, f"unit row: {entry.name}{note}", row.raw[:120]))
                result.skips.extend(entry.absorbed)
                continue
        if not entry.sub_project and index + 1 < len(rows) and rows[index + 1][1].sub_project:
            children = 0.0
            for _, child in rows[index + 1:]:
                if not child.sub_project:
                    break
                children += child.amount or 0.0
            if _close(entry.amount, children):
                result.skips.append(Skip(source, row.line, SECTION, "parent row of the sub-projects (--) below", row.raw[:120]))
                result.skips.extend(entry.absorbed)
                continue
        entry.unit = unit or entry.unit or department
        result.entries.append(entry)
