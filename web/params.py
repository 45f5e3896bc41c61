"""A request's parameters as the API's arguments: the same names as the CLI's options, the same bounds and messages.

Every parameter arrives as text (an HTML form sends an empty field as ``""``, which means "not given"),
so one set of converters serves the page and the JSON API, and a wrong value is refused with one
line in the CLI's words (click's ``Invalid value for …``) rather than a validation report.
Nothing here touches the file system: ids and names go to the record store's queries only.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fastapi import Query

from ..search import UsageError, parse_years
from ..search.filters import FIRST_YEAR, LAST_YEAR
from ..search.reader import MAX_QUERY_CHARS

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=None)
def limits() -> dict:
    """The bounds of ``data/limits.json``."""
    return json.loads((DATA / "limits.json").read_text("utf-8"))


@lru_cache(maxsize=None)
def labels() -> dict:
    """The page's Chinese labels (``data/labels.json``): fields, document kinds, modes."""
    return json.loads((DATA / "labels.json").read_text("utf-8"))


def invalid(name: str, message: str) -> UsageError:
    return UsageError(f"Invalid value for '{name}': {message}")


def text(name: str, value: str | None, most: int | None = None) -> str | None:
    """A text parameter: None when empty; refused when longer than ``most`` characters (a filter's bound by default)."""
    if value is None or not value.strip():
        return None
    most = most or limits()["text_chars"]
    if len(value) > most:
        raise invalid(name, f"{len(value):,} characters; at most {most:,}")
    return value.strip()


def query_text(value: str | None, name: str = "q") -> str:
    """The query, at most the search layer's ``MAX_QUERY_CHARS`` characters."""
    return text(name, value, MAX_QUERY_CHARS) or ""


def whole(name: str, value: str | None, low: int | None = None, high: int | None = None) -> int | None:
    """A whole number in [low, high] (click's IntRange words), or None when empty."""
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise invalid(name, f"{value[:40]!r} is not a valid integer.") from None
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{low}<=x<={high}" if high is not None else f"x>={low}"
        raise invalid(name, f"{number} is not in the range {bounds}.")
    return number


def number(name: str, value: str | None) -> float | None:
    """A finite decimal number (万元), or None when empty."""
    if value is None or not value.strip():
        return None
    try:
        result = float(value.strip())
    except ValueError:
        raise invalid(name, f"{value[:40]!r} is not a valid float.") from None
    if not math.isfinite(result):
        raise invalid(name, f"{value[:40]!r} is not a finite number.")
    return result


def threshold_of(value: str | None) -> float | None:
    """``duplicates``' threshold: a share in (0, 1], as the CLI's FloatRange."""
    share = number("threshold", value)
    if share is not None and not 0 < share <= 1:
        raise invalid("threshold", f"{share:g} is not in the range 0<x<=1.")
    return share


def texts(name: str, values: list[str]) -> list[str]:
    """A repeatable parameter, empty values dropped; at most 50 of them."""
    kept = [v for v in (text(name, v) for v in values) if v]
    if len(kept) > 50:
        raise invalid(name, f"{len(kept)} values; at most 50")
    return kept


def limit_of(value: str | None, default: int | None = None, most: int | None = None) -> int:
    """``limit``: 1 to the CLI's bound (1000)."""
    return whole("limit", value, 1, most or limits()["limit"]) or default or limits()["page_limit"]


@dataclass
class FilterArgs:
    """The filters of a request, as text (to link back to) and as the API's keyword arguments."""

    city: list[str] = field(default_factory=list)
    year: int | None = None
    years: str | None = None
    department: str | None = None
    unit: str | None = None
    category: list[str] = field(default_factory=list)
    min_amount: float | None = None
    max_amount: float | None = None
    section: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)

    def kwargs(self, without: str | None = None) -> dict:
        """The filters as ``GoalSearch`` keywords; ``without`` leaves one out (a facet counts as if it were not chosen)."""
        found = {"city": self.city, "year": self.year, "years": parse_years(self.years) if self.years else None,
                 "department": self.department, "unit": self.unit, "category": self.category,
                 "min_amount": self.min_amount, "max_amount": self.max_amount, "section": self.section,
                 "kind": self.kind}
        if without == "year":
            found["year"] = found["years"] = None
        elif without:
            found[without] = [] if isinstance(found[without], list) else None
        return found

    def pairs(self) -> list[tuple[str, str]]:
        """The filters as URL parameters (to keep them in links)."""
        out: list[tuple[str, str]] = []
        for name in ("city", "year", "years", "department", "unit", "category", "min_amount", "max_amount",
                     "section", "kind"):
            value = getattr(self, name)
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    out.append((name, f"{item:g}" if isinstance(item, float) else str(item)))
        return out

    @property
    def active(self) -> bool:
        return bool(self.pairs())


def filter_args(city: list[str] = Query([]), year: str | None = None, years: str | None = None,
                department: str | None = None, unit: str | None = None, category: list[str] = Query([]),
                min_amount: str | None = None, max_amount: str | None = None, section: list[str] = Query([]),
                kind: list[str] = Query([])) -> FilterArgs:
    """The filter parameters of a request (a FastAPI dependency), checked; the API checks their meaning."""
    args = FilterArgs(texts("city", city), whole("year", year, FIRST_YEAR, LAST_YEAR), text("years", years, 20),
                      text("department", department), text("unit", unit), texts("category", category),
                      number("min_amount", min_amount), number("max_amount", max_amount), texts("section", section),
                      texts("kind", kind))
    args.kwargs()  # a malformed --years range is refused here, in the CLI's words
    return args
