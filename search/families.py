"""Project families at search time: a family's members year by year, the family list, and search grouped by family.

The families themselves are computed when the index is built (``indexer.families``) and read
here through ``indexer.storage.family_store``. This module turns them into what a reader wants to see:

- ``FamilyView``: the members ordered by year, the amount per budget year and its change
  (万元 and %), and for each member whether its goal changed from the one before;
- ``list_families``: the families that have a member passing the filters, sorted by total
  amount, growth or number of years;
- ``group_hits``: search hits collapsed to one row per family (``search --group family``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from ..indexer import Record, RecordNotFound, UsageError
from ..indexer.families import Family, amounts_by_year, find_families, goal_vectors

_FAMILY_ID = re.compile(r"fam-[0-9a-f]{1,12}(?:-\d+)?")


class FamilySort(str, Enum):
    """How ``families`` orders the families."""

    TOTAL = "total"
    GROWTH = "growth"
    YEARS = "years"

    @classmethod
    def parse(cls, value: "str | FamilySort") -> "FamilySort":
        try:
            return cls(value)
        except ValueError:
            raise UsageError(f"unknown sort {str(value)[:40]!r}; choose one of {', '.join(s.value for s in cls)}") from None


class GroupBy(str, Enum):
    """How ``search`` may group its hits."""

    FAMILY = "family"

    @classmethod
    def parse(cls, value: "str | GroupBy") -> "GroupBy":
        try:
            return cls(value)
        except ValueError:
            raise UsageError(f"unknown grouping {str(value)[:40]!r}; choose one of {', '.join(g.value for g in cls)}") from None


@dataclass
class YearAmount:
    """One budget year of a family: the total of its members that year, and the change from the year before."""

    year: int | None
    amount: float
    change: float | None = None
    change_pct: float | None = None
    executed: float | None = None  # what the year's self-evaluations say was spent (None: no self-evaluation)

    def to_dict(self) -> dict:
        return {"year": self.year, "amount": self.amount, "change": self.change, "change_pct": self.change_pct,
                "executed": self.executed}


@dataclass
class FamilyView:
    """A family with its member records (ordered by year) and its amounts year by year."""

    id: str
    label: str
    members: list[Record]
    years: list[YearAmount]
    goal_changed: list[bool]  # per member: does its goal differ from the previous member's?

    @property
    def newest(self) -> Record:
        return self.members[-1]

    @property
    def total(self) -> float:
        return round(sum(y.amount for y in self.years), 2)

    @property
    def growth(self) -> float | None:
        """Change from the first budget year's total to the last's, in % (None with one year or a zero start)."""
        if len(self.years) < 2 or not self.years[0].amount:
            return None
        return round(100.0 * (self.years[-1].amount - self.years[0].amount) / self.years[0].amount, 1)

    def to_dict(self) -> dict:
        newest = self.newest
        return {"id": self.id, "label": self.label, "city": newest.city, "unit": newest.unit,
                "department": newest.department, "total": self.total, "growth_pct": self.growth,
                "years": [y.to_dict() for y in self.years],
                "members": [dict(m.to_dict(), goal_changed=changed) for m, changed in zip(self.members, self.goal_changed)]}


@dataclass
class FamilyHit:
    """One row of ``search(group="family")``: a family and the best hit among its members."""

    family: FamilyView
    rank: int
    score: float
    hit: object  # the best-ranked Hit of the family (search.api.Hit)
    matched: int = 1  # how many of the family's members were among the hits

    def to_dict(self) -> dict:
        data = self.family.to_dict()
        data.update(rank=self.rank, score=self.score, matched=self.matched, hit=self.hit.to_dict())
        return data


@dataclass
class FamilyIndex:
    """Every family of an open index, and which family each record is in."""

    families: list[Family]
    by_id: dict[str, Family] = field(default_factory=dict)
    of_record: dict[str, Family] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {f.id: f for f in self.families}
        self.of_record = {m: f for f in self.families for m in f.members}

    @classmethod
    def load(cls, store, vectors, views: list[str], dimension: int | None) -> "FamilyIndex":
        """The families of an open record store (``indexer.storage.record_store``); a generation built before
        families existed gets them computed in memory from its records and vectors."""
        if store.family_count or not len(store):
            return cls([Family.from_dict(f) for f in store.families()])
        side = vectors()
        dimension = dimension or side.dimension
        goals = goal_vectors(np.asarray(side.vectors), views, dimension)
        return cls(find_families(list(store), goals))


def view(family: Family, by_id: dict[str, Record]) -> FamilyView:
    """A stored family with its records, amounts per year and their changes."""
    members = [by_id[m] for m in family.members if m in by_id]
    totals = amounts_by_year(members)  # a year's money once, however many of its documents state it
    executed: dict[str, float] = {}
    for record in members:
        if record.kind == "self_evaluation" and record.executed is not None:
            executed[str(record.year)] = executed.get(str(record.year), 0.0) + record.executed
    years, previous = [], None
    for year in sorted({record.year for record in members}, key=lambda y: (y is None, y or 0)):
        amount = round(totals[str(year)], 2)
        change = pct = None
        if previous is not None:
            change = round(amount - previous, 2)
            pct = round(100.0 * change / previous, 1) if previous else None
        spent = executed.get(str(year))
        years.append(YearAmount(year, amount, change, pct, round(spent, 2) if spent is not None else None))
        previous = amount
    changed = [False] + [_goal_key(a.goal) != _goal_key(b.goal) for a, b in zip(members, members[1:])]
    return FamilyView(family.id, family.label, members, years, changed)


def _goal_key(goal: str) -> str:
    return re.sub(r"\s+", "", goal or "")


def looks_like_family_id(text: str) -> bool:
    return bool(_FAMILY_ID.fullmatch(text or ""))


def family_by_id(index: FamilyIndex, family_id: str) -> Family:
    """The family with this id (or a unique prefix of at least ``fam-`` and 4 hex digits)."""
    found = index.by_id.get(family_id)
    if found:
        return found
    if len(family_id) >= 8:
        matches = [f for i, f in index.by_id.items() if i.startswith(family_id)]
        if len(matches) == 1:
            return matches[0]
    raise RecordNotFound(f"no family with id {family_id[:40]!r}; list families with `goalsearch families`")


def list_families(index: FamilyIndex, by_id: dict[str, Record], allowed: set[str] | None,
                  sort: FamilySort, min_members: int, limit: int | None, min_years: int = 1) -> list[FamilyView]:
    """Families with at least ``min_members`` members in at least ``min_years`` budget years, one member of
    which is ``allowed`` (None: all), sorted."""
    views = [view(f, by_id) for f in index.families
             if len(f.members) >= min_members and len(f.years) >= min_years
             and (allowed is None or any(m in allowed for m in f.members))]
    if sort is FamilySort.TOTAL:
        views.sort(key=lambda v: (-v.total, v.id))
    elif sort is FamilySort.GROWTH:
        views.sort(key=lambda v: (v.growth is None, -(v.growth or 0.0), v.id))
    else:
        views.sort(key=lambda v: (-len(v.years), -len(v.members), -v.total, v.id))
    return views[:limit] if limit else views


def group_hits(hits: list, index: FamilyIndex, by_id: dict[str, Record], limit: int) -> list[FamilyHit]:
    """Collapse ranked hits to one row per family, in the order of each family's best hit."""
    rows: dict[str, FamilyHit] = {}
    for hit in hits:
        family = index.of_record.get(hit.record.id)
        if family is None:
            continue
        if family.id in rows:
            rows[family.id].matched += 1
            continue
        if len(rows) == limit:
            continue
        rows[family.id] = FamilyHit(view(family, by_id), len(rows) + 1, hit.score, hit)
    return list(rows.values())
