"""The indicator table of a form: the tree 一级 → 二级 → 三级 with each indicator's values.

The header names the columns after the indicator's name (``指标性质 | 指标值 | 度量单位 | 完成值 | 权重 |
得分 | …``); the body gives, per indicator, its name and one value per column, under level labels that
appear once for the rows they span (a merged cell) and are carried down. How a row's values are
found depends on what the layout keeps:

- a grid whose rows keep every cell (PDF and HTML): each cell by its column, as the header row places it;
- rows that drop merged cells (pipe rows): the level labels, then the name, then the values in order;
- one cell per line: the name, then as many cells as the header has value columns (an empty cell,
  ``|``, counts);
- text: the text between two labels, cut into name and values by the values' shapes
  (``values.split_spaced_rows`` and ``values.split_glued``), several rows at once where they ran together.

A target is written as the form writes it, composed from its parts where the form splits them
(``指标性质 =`` + ``指标值 100`` + ``度量单位 %`` → ``=100%``).
"""
from __future__ import annotations

from ...records import Indicator
from .form import Cells
from .labels import level2_parents
from .values import split_glued, split_spaced_rows

NOT_SPLIT = ("reason", "other")  # columns text layouts never fill: they cannot be told apart from a name


def read_header(cells: Cells, at: int) -> tuple[int, list[str], dict[int, str] | None]:
    """Read the header run from ``at``: (index after it, column roles, role by position within its row)."""
    columns: list[str] = []
    positions: dict[int, str] = {}
    index = at
    row = cells.cells[at].row
    while index < len(cells):
        cell = cells.cells[index]
        if cells.layout == "rows" and cell.row != row and columns:
            break
        if cell.empty:
            index += 1
            continue
        column = cells.role(index, "indicator_column")
        section = cells.role(index, "indicator_section")
        if not column and not section:
            break
        if column:
            columns.append(column.key)
            if cell.row == row:
                positions[_position(cells, index)] = column.key
        cells.use(index)
        index += 1
    return index, columns, positions if cells.layout == "rows" else None


def _position(cells: Cells, index: int) -> int:
    row = cells.cells[index].row
    start = index
    while start > 0 and cells.cells[start - 1].row == row:
        start -= 1
    return index - start


def _row_of(cells: Cells, index: int) -> tuple[int, int]:
    """[start, end) of the row holding ``index``."""
    row = cells.cells[index].row
    start, end = index, index
    while start > 0 and cells.cells[start - 1].row == row:
        start -= 1
    while end < len(cells) and cells.cells[end].row == row:
        end += 1
    return start, end


class Tree:
    """The level labels in force while reading the body: carried down until the next label."""

    def __init__(self) -> None:
        self.level1: str | None = None
        self.level2: str | None = None

    def read_label(self, cells: Cells, index: int) -> bool:
        """Take the cell at ``index`` as a level label if it is one; True when it was."""
        first = cells.role(index, "level1")
        second = cells.role(index, "level2")
        if not first and not second:
            return False
        if first and second:  # 成本指标, 满意度指标: a level-1 label over its own level-2 rows, or a level 2
            after = cells.next_filled(index + 1)
            next_second = cells.role(after, "level2")
            if next_second and first.key in level2_parents(next_second.key):
                second = None
            else:
                first = None
        if first:
            self.level1, self.level2 = first.key, None
        else:
            self.level2 = second.key
            if self.level1 not in level2_parents(second.key):
                self.level1 = None
        cells.use(index, "indicator")
        return True


def read_body(cells: Cells, at: int, columns: list[str], positions: dict[int, str] | None) -> int:
    """Read indicator rows from ``at`` until the table ends; return where it ended."""
    roles = columns[columns.index("name") + 1:] if "name" in columns else ["target"]
    tree = Tree()
    index = _past_header_cells(cells, at)
    while index < len(cells):
        cell = cells.cells[index]
        if cell.empty:
            index += 1
            continue
        if cells.role(index, "end") or cells.title_at(index):
            break
        if tree.read_label(cells, index):
            index += 1
            continue
        if cells.role(index, "indicator_column", "indicator_section"):
            index, _, _ = read_header(cells, index)  # the header repeated (a new page)
            continue
        if cells.is_label(index):
            break
        if positions and cells.layout == "rows":
            index = _grid_row(cells, index, positions, tree, roles)
        elif cell.glued:
            index = _text_rows(cells, index, tree, roles)
        else:
            index = _in_order(cells, index, tree, roles)
    return index


def _past_header_cells(cells: Cells, at: int) -> int:
    """Skip the cells that still belong to the header: the rest of its row (in rows), or, one cell per
    line, the plain cells before the first level label (sub-headings such as the counties under
    ``区域目标值``)."""
    index = at
    if cells.layout == "rows" and at > 0:
        row = cells.cells[at - 1].row
        while index < len(cells) and cells.cells[index].row == row:
            if not cells.cells[index].empty:
                cells.skip(index, "a heading of the indicator table goalsearch does not know")
            index += 1
        return index
    if cells.layout == "cells":
        ahead = index
        while ahead < len(cells) and (cells.cells[ahead].empty or not cells.is_label(ahead)):
            ahead += 1
        if ahead < len(cells) and cells.role(ahead, "level1", "level2"):
            for skipped in range(index, ahead):
                cells.skip(skipped, "a heading of the indicator table goalsearch does not know")
            return ahead
    return index


def _grid_row(cells: Cells, index: int, positions: dict[int, str], tree: Tree, roles: list[str]) -> int:
    """A row of a grid: by position when it has the header's width, else its cells in order."""
    start, end = _row_of(cells, index)
    width = max(positions) + 1
    if end - start < width or "name" not in positions.values():
        return _in_order(cells, index, tree, roles)
    values: dict[str, str] = {}
    name = ""
    for offset in range(index - start, end - start):
        cell = cells.cells[start + offset]
        role = positions.get(offset)
        if cell.empty or role is None:
            if not cell.empty:
                cells.skip(start + offset, "a cell outside the indicator columns")
            continue
        if role in ("level1", "level2"):
            if not tree.read_label(cells, start + offset):
                cells.skip(start + offset, "an indicator level that is not in forms.json")
            continue
        if role == "name":
            name = cell.text
        else:
            values[role] = cell.text
        cells.use(start + offset, "indicator")
    if name:
        cells.form.indicators.append(make(tree, name, values))
    return end


def _in_order(cells: Cells, index: int, tree: Tree, roles: list[str]) -> int:
    """The name at ``index`` and the next cells as values, empty cells counting (stops at a label or row end)."""
    row = cells.cells[index].row
    name = cells.cells[index].text
    cells.use(index, "indicator")
    values: dict[str, str] = {}
    position = index + 1
    for role in roles:
        if position >= len(cells):
            cells.form.cut_short = True
            break
        cell = cells.cells[position]
        if cells.layout == "rows" and cell.row != row:
            break
        if not cell.empty and (cells.is_label(position) or cells.title_at(position)):
            break
        if not cell.empty:
            values[role] = cell.text
            cells.use(position, "indicator")
        position += 1
    if cells.layout == "rows":
        while position < len(cells) and cells.cells[position].row == row:
            cells.skip(position, "a cell beyond the indicator columns")
            position += 1
    cells.form.indicators.append(make(tree, name, values))
    return position


def _text_rows(cells: Cells, index: int, tree: Tree, roles: list[str]) -> int:
    """Indicators in text between two labels: cut by the values' shapes, or reported."""
    text = cells.cells[index].text
    wanted = [r for r in roles if r not in NOT_SPLIT]
    tokens = text.split()
    rows = split_spaced_rows(tokens, wanted) if len(tokens) > 1 else split_glued(text, wanted)
    if not rows:
        cells.skip(index, "indicator text whose columns cannot be told apart")
        cells.form.warnings.append(f"line {cells.cells[index].line}: indicator text not cut into columns: {text[:40]}")
        if cells.next_filled(index + 1) is None:  # the text ends in it: a row cut off
            cells.form.cut_short = True
        return index + 1
    cells.use(index, "indicator")
    for name, values in rows:
        cells.form.indicators.append(make(tree, name, values))
    return index + 1


def make(tree: Tree, name: str, values: dict[str, str]) -> Indicator:
    """An indicator from its cells: the target composed of operator, value and unit where they are apart."""
    target = values.get("target", "").strip()
    operator = values.get("operator", "").strip()
    unit = values.get("unit", "").strip()
    if target or operator:
        target = f"{operator}{target}{unit if target else ''}"
    return Indicator(level1=tree.level1, level2=tree.level2, name=name.strip(), target=target or None,
                     actual=values.get("actual", "").strip() or None, unit=unit or None,
                     weight=_number(values.get("weight")), score=_number(values.get("score")))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
