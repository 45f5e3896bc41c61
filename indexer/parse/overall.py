"""The whole-department performance table (部门（单位）整体支出绩效目标表, 深圳).

It names the unit and its supervising department, lists the year's main tasks
(任务名称, 主要内容, amounts), states the 年度总体目标, then the performance
indicators (一级/二级/三级指标, 目标值) whose merged cells arrive shifted left.
Tasks become Entries; the goal and indicators are returned for ``merge`` to attach.
"""
from __future__ import annotations

from .entries import Entry, TableResult
from .layout import Table, table_rules
from ..records import Indicator, Skip
from .text import clean_cell, parse_amount

SECTION = "overall"


def _indicator(cells: list[str], level1: str, level2: str) -> tuple[Indicator | None, str, str]:
    """Read one indicator row; levels carry over from the rows above (merged cells)."""
    rules = table_rules()
    values = [c for c in cells if c and c != rules["indicator_section_label"]]
    if len(values) < 2:
        return None, level1, level2
    name, target = values[-2], values[-1]
    for value in values[:-2]:
        if value in rules["indicator_level1"]:
            level1, level2 = value, ""
        elif value in rules["indicator_level2"]:
            level2 = value
    if name in rules["indicator_level2"]:  # a level cell followed by a lone value
        return None, level1, name
    return Indicator(level1, level2, name, target), level1, level2


def parse_overall(table: Table, source: str, department: str) -> TableResult:
    """Turn the rows of one whole-department performance table into Entries and Skips."""
    rules = table_rules()
    result = TableResult()
    in_indicators = False
    level1 = level2 = ""
    for row in table.rows:
        result.rows_read += 1
        cells = [clean_cell(c) for c in row.cells]
        raw = row.raw[:120]
        first = cells[0] if cells else ""

        def skip(reason: str) -> None:
            result.skips.append(Skip(source, row.line, SECTION, reason, raw))

        if first.startswith("部门（单位）名称") or first.startswith("部门名称"):
            values = [c for c in cells[1:] if c]
            result.unit = values[0] if values else ""
            if "主管部门" in values:
                after = values.index("主管部门") + 1
                result.department = values[after] if after < len(values) else ""
            skip("metadata row (unit and supervising department)")
            continue
        if first == rules["overall_goal_label"]:
            result.overall_goal = " ".join(c for c in cells[1:] if c)
            skip("年度总体目标 (kept on the records as overall_goal)")
            continue
        if rules["indicator_header"] in cells:
            in_indicators = True
            skip("header row")
            continue
        if in_indicators:
            indicator, level1, level2 = _indicator(cells, level1, level2)
            if indicator is not None and not (indicator.name == "无" and indicator.target == "无"):
                result.indicators.append(indicator)
                skip("indicator row (kept on the records as indicators)")
            else:
                skip("indicator row without an indicator (无)")
            continue
        if first in rules["header_first_cells"] or "总额" in cells:
            skip("header row")
            continue
        values = [c for c in cells if c]
        if values and values[0] in rules["total_names"]:
            skip("total row (合计)")
            continue
        amount_at = next((i for i, c in enumerate(cells) if i >= 2 and parse_amount(c) is not None), None)
        if amount_at is None or not cells[1]:
            skip("row without a task name or amount")
            continue
        name = cells[1]
        if any(word in name for word in rules["basic_expenditure_words"]):
            skip("basic expenditure (基本支出), not a project")
            continue
        amount = parse_amount(cells[amount_at])
        labels = ["总额", "财政拨款", "其他资金"]
        amounts = {label: parse_amount(c) for label, c in zip(labels, cells[amount_at:]) if parse_amount(c) is not None}
        result.entries.append(Entry(section=SECTION, line=row.line, name=name, amount=amount,
                                    goal=cells[amount_at - 1] if amount_at >= 3 else "", amounts=amounts,
                                    precise="." in cells[amount_at]))
    return result
