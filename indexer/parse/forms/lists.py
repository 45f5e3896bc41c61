"""List exports of a budget system: one row per indicator, many projects in one table.

The header row holds the project's columns (``单位名称 | 项目名称 | 预算数 | 年度目标``) before the
indicator columns (``一级指标 | 二级指标 | 三级指标 | 指标性质 | 指标值 | 度量单位 | 权重 | …``). A
project's columns are filled on its first row only, and an exporter drops the merged cells, so a row's
cells are placed from its first level-1 label: the cells before it are the project's columns counted
from the right (a new project that keeps the unit above it starts at its name), the cells from it on are
the indicator's. A row with a name and an amount but no indicator is the department's subtotal.
"""
from __future__ import annotations

from .blocks import Block
from .cells import Cell
from .form import Cells, FormRecord
from .indicators import Tree, make
from .labels import labels_of
from .values import read_amount


def _rows(cells: list[Cell]) -> list[list[int]]:
    rows: dict[int, list[int]] = {}
    for index, cell in enumerate(cells):
        rows.setdefault(cell.row, []).append(index)
    return list(rows.values())


def _header(cells: list[Cell]) -> list[int] | None:
    for row in _rows(cells):
        roles = [{label.role: label for label in labels_of(cells[i].text)} for i in row]
        has_name = any("field" in r and r["field"].key == "name" for r in roles)
        has_levels = any("indicator_column" in r and r["indicator_column"].key == "level1" for r in roles)
        if has_name and has_levels:
            return row
    return None


def is_list(cells: list[Cell]) -> bool:
    """Is this a list export (project and indicator columns in one header row)?"""
    return _header(cells) is not None


def read_list(cells: list[Cell], block: Block, layout: str) -> list[FormRecord]:
    """One FormRecord per project of the list."""
    header = _header(cells) or []
    roles: list[str] = []
    for index in header:
        found = {label.role: label for label in labels_of(cells[index].text)}
        label = found.get("field") or found.get("goal") or found.get("indicator_column") or found.get("money_column")
        roles.append(label.key if label else "")
    first_level = roles.index("level1")
    project_roles, indicator_roles = roles[:first_level], roles[first_level:]
    unit = "元" if any("元" in c.text and "万元" not in c.text and "单位" in c.text for c in cells[:header[0]]) else "万元"
    forms: list[FormRecord] = []
    department = None
    current: FormRecord | None = None
    account: Cells | None = None
    tree = Tree()
    for row in _rows(cells):
        if row[0] <= header[-1]:
            continue
        filled = [i for i in row if not cells[i].empty]
        levels = [i for i in filled if any(label.role == "level1" for label in labels_of(cells[i].text))]
        if not levels:
            if len(filled) == 2 and read_amount(cells[filled[1]].text, unit) is not None:
                department = cells[filled[0]].text
                if account:
                    account.use(filled[0])
                    account.use(filled[1])
            elif account:
                for i in filled:
                    account.skip(i, "a row of the list that is neither a project nor an indicator")
            continue
        start = row.index(levels[0])
        project = [i for i in row[:start] if not cells[i].empty]
        if project:
            values = dict(zip(project_roles[len(project_roles) - len(project):], (cells[i].text for i in project)))
            current = FormRecord(kind=block.kind or "goal_form", scope="project", line=cells[row[0]].line,
                                 layout=layout, year=block.year)
            current.name = values.get("name")
            current.unit = values.get("unit") or (forms[-1].unit if forms else None)
            current.department = department
            current.goal = values.get("annual")
            current.amount = read_amount(values.get("budget", ""), unit)
            if current.amount is not None:
                current.amounts["预算数"] = current.amount
            forms.append(current)
            account = Cells(cells, current)
            account.form.cells = 0
            tree = Tree()
            for i in project:
                account.use(i)
                current.cells += 1
        if current is None or account is None:
            continue
        indicator_cells = row[start:]
        current.cells += sum(1 for i in indicator_cells if not cells[i].empty)
        values: dict[str, str] = {}
        name = ""
        for role, index in zip(indicator_roles, indicator_cells):
            cell = cells[index]
            if cell.empty:
                continue
            if role in ("level1", "level2"):
                tree.read_label(account, index) or account.skip(index, "an indicator level that is not in forms.json")
            elif role == "name":
                name = cell.text
                account.use(index, "indicator")
            elif role:
                values[role] = cell.text
                account.use(index, "indicator")
        for index in indicator_cells[len(indicator_roles):]:
            account.skip(index, "a cell beyond the list's columns")
        if name:
            current.indicators.append(make(tree, name, values))
        if len(indicator_cells) < len(indicator_roles) - 1 and row is _rows(cells)[-1]:
            current.cut_short = True
    return forms
