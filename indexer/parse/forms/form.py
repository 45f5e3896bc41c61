"""What one form says, as the reader found it, and the cells it was read from.

``FormRecord`` holds a form's fields before they become a ``Record``: the kind of form, its year,
name, unit and department, money (budget, executed, rate), goals, the indicator tree, and what could
not be read. ``Cells`` walks a form's cells and keeps the account: every non-empty cell ends up used
(in a field, the money, a goal or an indicator) or skipped with a reason, so a form reconciles.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ...records import Indicator
from .cells import Cell
from .labels import Label, labels_of


@dataclass
class FormRecord:
    """One project (or, for a whole-department form, one unit) as its form states it."""

    kind: str  # goal_form | self_evaluation
    scope: str  # project | unit
    line: int
    layout: str = ""
    year: int | None = None
    name: str | None = None
    unit: str | None = None
    department: str | None = None
    unit_name: str | None = None  # 部门(单位)名称 of a whole-department form
    filed_by: str | None = None  # 预算单位 / 填报单位: who filed the form; only a hint to the place
    amount: float | None = None
    executed: float | None = None
    rate: float | None = None
    score: float | None = None
    amounts: dict[str, float] = field(default_factory=dict)
    goal: str | None = None
    long_goal: str | None = None
    actual: str | None = None
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    cells: int = 0
    in_fields: int = 0
    in_indicators: int = 0
    skipped: Counter = field(default_factory=Counter)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    cut_short: bool = False  # the text ends inside the form


class Cells:
    """A form's cells with a position, and the account of what each non-empty cell became."""

    def __init__(self, cells: list[Cell], form: FormRecord) -> None:
        self.cells = cells
        self.at = 0
        self.form = form
        self.counted: set[int] = set()
        form.cells = sum(1 for c in cells if not c.empty)

    def __len__(self) -> int:
        return len(self.cells)

    def done(self) -> bool:
        return self.at >= len(self.cells)

    def next_filled(self, start: int) -> int | None:
        """The index of the first non-empty cell at or after ``start``."""
        for index in range(start, len(self.cells)):
            if not self.cells[index].empty:
                return index
        return None

    def labels(self, index: int | None) -> list[Label]:
        if index is None or index >= len(self.cells) or self.cells[index].empty:
            return []
        return labels_of(self.cells[index].text)

    def role(self, index: int | None, *roles: str) -> Label | None:
        """The cell's reading as one of ``roles`` (the first that applies), if it has one."""
        found = {label.role: label for label in self.labels(index)}
        return next((found[r] for r in roles if r in found), None)

    def is_label(self, index: int | None) -> bool:
        return bool(self.labels(index))

    # -- the account ------------------------------------------------------------------
    def use(self, index: int, part: str = "field") -> None:
        cell = self.cells[index]
        if cell.empty or index in self.counted:
            return
        self.counted.add(index)
        if part == "indicator":
            self.form.in_indicators += 1
        else:
            self.form.in_fields += 1
        if cell.line not in self.form.lines:
            self.form.lines.append(cell.line)

    def skip(self, index: int, reason: str) -> None:
        cell = self.cells[index]
        if cell.empty or index in self.counted:
            return
        self.counted.add(index)
        self.form.skipped[reason] += 1
        examples = self.form.skipped_examples.setdefault(reason, [])
        if len(examples) < 3:
            examples.append(cell.text[:60])
