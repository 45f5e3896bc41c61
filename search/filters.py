"""Filters: which records a search may return, applied before ranking on both sides."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..indexer import KIND_LABELS, Record, UsageError, city_label
from ..indexer.storage.record_store import SECTIONS


@dataclass
class Filters:
    """Conditions a record must meet; empty fields do not filter."""

    city: list[str] = field(default_factory=list)
    years: tuple[int | None, int | None] = (None, None)
    department: str | None = None
    unit: str | None = None
    category: list[str] = field(default_factory=list)
    min_amount: float | None = None
    max_amount: float | None = None
    section: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # budget, goal_form, self_evaluation (indexer.records.KIND_LABELS)

    def __post_init__(self) -> None:
        for name, known in (("section", SECTIONS), ("kind", list(KIND_LABELS))):
            unknown = [value for value in getattr(self, name) if value not in known]
            if unknown:  # the CLI's choices refuse them; the Python API and the web's parameters must too
                raise UsageError(f"unknown {name} {str(unknown[0])[:40]!r}; choose from {', '.join(known)}")
        low, high = self.years
        if low is not None and high is not None and low > high:
            raise UsageError(f"year range {low}-{high} is reversed; write it as {high}-{low}")
        for name in ("min_amount", "max_amount"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise UsageError(f"--{name.replace('_', '-')} {value}: give a number of 万元")
            if value is not None and value < 0:
                raise UsageError(f"--{name.replace('_', '-')} {value:g} is negative; amounts are in 万元 and ≥ 0")
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise UsageError(f"amount range is reversed: --min-amount {self.min_amount:g} > --max-amount {self.max_amount:g}")

    @property
    def active(self) -> bool:
        return any([self.city, self.years != (None, None), self.department, self.unit, self.category,
                    self.min_amount is not None, self.max_amount is not None, self.section, self.kind])

    def to_dict(self) -> dict:
        return asdict(self)

    def mask(self, store) -> np.ndarray:
        """The rows of a record store (``indexer.storage.record_store``) that meet every condition, from its
        filter columns: the same answers as ``matches``, a few numpy comparisons at any size."""
        keep = np.ones(len(store), dtype=bool)
        if self.city:
            keep &= _in(store, "city", lambda value: value in {city_label(c) for c in self.city})
        low, high = self.years
        year = store.array("year")
        if low is not None:
            keep &= (year >= low) & (year != -1)
        if high is not None:
            keep &= (year <= high) & (year != -1)
        if self.department:
            keep &= _in(store, "department", lambda value: self.department in value)
        if self.unit:
            keep &= _in(store, "unit", lambda value: self.unit in value)
        if self.category:
            keep &= _in(store, "category", lambda value: value in self.category)
        amount = store.array("amount")
        if self.min_amount is not None:
            keep &= np.nan_to_num(amount, nan=-1.0) >= self.min_amount
        if self.max_amount is not None:
            keep &= ~np.isnan(amount) & (amount <= self.max_amount)
        if self.section:
            bits = sum(1 << i for i, name in enumerate(SECTIONS) if name in self.section)
            keep &= (store.array("sections") & bits) != 0
        if self.kind:
            if store.has_column("kind"):
                keep &= _in(store, "kind", lambda value: value in self.kind)
            elif "budget" not in self.kind:  # a store written before forms were read holds budget records only
                keep &= False
        return keep

    def matches(self, record: Record) -> bool:
        """Does ``record`` meet every condition?"""
        if self.city and city_label(record.city) not in {city_label(c) for c in self.city}:
            return False
        low, high = self.years
        if low is not None and (record.year is None or record.year < low):
            return False
        if high is not None and (record.year is None or record.year > high):
            return False
        if self.department and self.department not in record.department:
            return False
        if self.unit and self.unit not in record.unit:
            return False
        if self.category and record.category not in self.category:
            return False
        amount = record.amount if record.amount is not None else -1.0
        if self.min_amount is not None and amount < self.min_amount:
            return False
        if self.max_amount is not None and (record.amount is None or amount > self.max_amount):
            return False
        if self.section and not set(self.section) & set(record.sections):
            return False
        if self.kind and record.kind not in self.kind:
            return False
        return True


def _in(store, kind: str, wanted) -> np.ndarray:
    """Rows whose ``kind`` facet value satisfies ``wanted`` (tested once per distinct value)."""
    codes = [code for code, value in enumerate(store.facet(kind)) if wanted(value)]
    return np.isin(store.array(kind), np.array(codes, dtype=np.int32))


FIRST_YEAR, LAST_YEAR = 1900, 2200  # the budget years a filter takes (--year, --years, the web API)


def parse_years(text: str | None) -> tuple[int | None, int | None]:
    """``2023-2026`` → (2023, 2026); ``2024`` → (2024, 2024); ``2023-`` → (2023, None)."""
    if not text:
        return (None, None)
    parts = text.replace("–", "-").split("-")
    years: tuple[int | None, int | None] | None = None
    try:
        if len(parts) == 1:
            years = (int(parts[0]), int(parts[0]))
        elif len(parts) == 2:
            years = (int(parts[0]) if parts[0] else None, int(parts[1]) if parts[1] else None)
    except ValueError:
        pass
    if years is None:
        raise UsageError(f"years {text!r}: write a year (2024) or a range (2023-2026)")
    if any(year is not None and not FIRST_YEAR <= year <= LAST_YEAR for year in years):
        raise UsageError(f"years {text!r}: a year is between {FIRST_YEAR} and {LAST_YEAR}")
    return years


def closest_first(value: str, known: list[str], limit: int | None = None) -> list[str]:
    """``known`` ordered by likeness to ``value`` (difflib's ratio; ties keep ``known``'s order)."""
    from difflib import SequenceMatcher

    def likeness(name: str) -> float:
        score = SequenceMatcher(None, value, name).ratio()
        return score + (1.0 if value and (value in name or name in value) else 0.0)

    ranked = sorted(known, key=lambda name: -likeness(name))
    return ranked[:limit] if limit else ranked


def check_known(filters: Filters, store, shown: int = 8) -> None:
    """Raise ``UsageError`` naming the known values (closest first) when a city, category or
    department filter matches nothing in the record ``store``: a typo should not read as "no matching projects".

        >>> check_known(Filters(city=["北京"]), store)
        UsageError: unknown city '北京'; the index has 广州, 深圳, 江门
    """
    if filters.city:
        cities = [c for c in store.facet("city") if c]
        for city in filters.city:
            if city_label(city) not in cities:
                raise UsageError(f"unknown city {city!r}; the index has {', '.join(closest_first(city_label(city), cities))}")
    if filters.category:
        from ..indexer import categories

        known = categories()
        for category in filters.category:
            if category not in known:
                raise UsageError(f"unknown category {category!r}; choose from {', '.join(closest_first(category, known))}")
    departments = [d for d in store.facet("department") if d] if filters.department else []
    if filters.department and not any(filters.department in d for d in departments):
        closest = closest_first(filters.department, departments, shown)
        more = f" (closest {len(closest)} of {len(departments)})" if len(departments) > len(closest) else ""
        raise UsageError(f"no department contains {filters.department!r}; the index has{more} {', '.join(closest)}")


def check_contradictions(record: Record, filters: Filters, other_cities: bool, other_years: bool) -> None:
    """A filter that admits only the project's own city (or years) cannot be met with other_cities (other_years)."""
    own_city = city_label(record.city)
    if other_cities and filters.city and {city_label(c) for c in filters.city} <= {own_city}:
        raise UsageError(f"--city {own_city} and --other-cities contradict each other: {record.name} is in {own_city}, "
                         "so no project can be in both; drop one of them")
    low, high = filters.years
    if other_years and record.year is not None and (low, high) != (None, None) and low == high == record.year:
        raise UsageError(f"--year {record.year} and --other-years contradict each other: {record.name} is of "
                         f"{record.year}; drop one of them")
