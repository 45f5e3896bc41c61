"""Entry: a project row as one table states it, before tables are merged.

Parsers of each table kind turn rows into Entries and Skips; ``merge`` then joins
the Entries that name the same project in several tables into one Record.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..records import Indicator, Skip


@dataclass
class Entry:
    """A project as one table row (plus its continuation lines) states it."""

    section: str
    line: int
    name: str
    amount: float | None
    unit: str = ""
    goal: str = ""
    amounts: dict[str, float] = field(default_factory=dict)
    precise: bool = True
    sub_project: bool = False
    aliases: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    absorbed: list[Skip] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sections:
            self.sections = [self.section]
        if not self.lines:
            self.lines = [self.line]


@dataclass
class TableResult:
    """What parsing one table produced."""

    entries: list[Entry] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    rows_read: int = 0
    overall_goal: str = ""
    indicators: list[Indicator] = field(default_factory=list)
    unit: str = ""
    department: str = ""
