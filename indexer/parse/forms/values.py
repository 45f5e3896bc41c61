"""Values in a form's cells: amounts, and cells that hold several values without a delimiter.

Amounts are read in 万元: ``250万`` and ``854万(高标准农田建设400万元,…)`` are 250 and 854, a form whose
money is in 元 (``项目资金(元)``, ``金额单位:元``) is divided by 10,000, and anything that is not plainly a
number (a year, a sentence about money) is no amount. An amount beyond any real budget is refused.

A converter that flattens a table can glue a row's cells together (``安装坡面水标尺10≥266米≥266米10``,
``202010100.00%10``). Such a cell is split only as far as it is unambiguous: every way of cutting it
into the columns the form's header names is tried, each column with the shape its values have (a
score is a number of at most 100, a rate a percentage, a target a quantity or a short phrase), and the
checks the form itself implies must hold (a score never exceeds its weight, an execution rate is the
executed amount over the budget). A cut is taken only when exactly one survives (or exactly one repeats
its target as the achieved value, as a completed self-evaluation does); otherwise the cell is reported.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from .labels import normal

MAX_WAN = 1e8  # 万元: a trillion yuan, beyond any single budget line; larger is a damaged cell
_AMOUNT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER = r"(?:0|[1-9]\d*)(?:\.\d+)?"
_OPERATOR = r"(?:[≥≤<>=＞＜]=?|>=|<=|不[低少]于|不超过|不高于|大于|小于|约)"
_QUANTITY = re.compile(rf"^{_OPERATOR}?{_NUMBER}\s*(?:[^\d\s≥≤<>=＞＜.,][^\d≥≤<>=＞＜]{{0,5}})?$")
_PHRASE = re.compile(r"^[\u4e00-\u9fff]{1,12}$")
_SCORE = re.compile(rf"^{_NUMBER}$")
_RATE = re.compile(r"^(?:0|[1-9]\d{0,2})(?:\.\d+)?%$")
_NOT_A_NAME_START = re.compile(r"^[\d%.,≥≤<>=＞＜)）]")
_OPERATOR_ONLY = re.compile(rf"^{_OPERATOR}$")
_UNIT = re.compile(r"^[^\d\s]{1,6}$")
MAX_PARSES = 256


def read_amount(text: str, unit: str = "万元") -> float | None:
    """An amount in 万元 from a cell, or None when the cell is not plainly one.

    >>> read_amount("854万(高标准农田建设400万元,示范建设295万元)"), read_amount("4,100,000.00", "元")
    (854.0, 410.0)
    """
    value_text = normal(text or "")
    match = _AMOUNT.match(value_text)
    if not match:
        return None
    rest = value_text[match.end():]
    value = float(match.group(0).replace(",", ""))
    if rest.startswith("万"):
        pass
    elif rest.startswith("元"):
        value /= 10_000
    elif rest and rest[0] not in "(;,。" :
        return None
    elif unit == "元":
        value /= 10_000
    if not math.isfinite(value) or abs(value) > MAX_WAN:
        return None
    return round(value, 6)


def read_rate(text: str) -> float | None:
    """A percentage cell (``100.00%``) as a number of percent."""
    match = re.fullmatch(r"\s*(\d{1,3}(?:\.\d+)?)\s*%\s*", text or "")
    return float(match.group(1)) if match else None


def shape_fits(role: str, text: str) -> bool:
    """Could ``text`` be a value of this column (used to cut glued cells and space-separated rows)?"""
    if role in ("weight", "score"):
        return bool(_SCORE.match(text)) and float(text) <= 100
    if role == "rate":
        return bool(_RATE.match(text))
    if role in ("target", "actual", "target_adjusted"):
        return bool(_QUANTITY.match(text) or _PHRASE.match(text))
    if role == "operator":
        return bool(_OPERATOR_ONLY.match(text))
    if role == "unit":
        return bool(_UNIT.match(text))
    if role in ("budget", "budget_start", "executed"):
        return bool(_SCORE.match(text.replace(",", "")))
    return True


def rate_error(values: dict[str, str]) -> float:
    """How far a row's execution rate is from its executed amount over its budget, in percentage points."""
    rate = values.get("rate")
    executed = values.get("executed")
    budget = values.get("budget") or values.get("budget_start")
    if not (rate and executed and budget):
        return 0.0
    base = float(budget.replace(",", ""))
    share = float(executed.replace(",", "")) / base * 100 if base else 0.0
    return abs(share - float(rate.rstrip("%")))


def score_error(values: dict[str, str]) -> float:
    """How far a money row's score is from weight × execution rate (``得分 = 分值 × 执行率``, the usual rule)."""
    if not all(values.get(k) for k in ("weight", "rate", "score")):
        return 0.0
    expected = float(values["weight"]) * min(float(values["rate"].rstrip("%")), 100.0) / 100
    return abs(expected - float(values["score"]))


def _consistent(values: dict[str, str]) -> bool:
    """What a form implies between its columns: a score never exceeds its weight; rate = executed / budget
    (as rounded to the digits the rate is written with, or to 1 point)."""
    if "weight" in values and "score" in values and float(values["score"]) > float(values["weight"]):
        return False
    rate = values.get("rate")
    if rate:
        decimals = len(rate.rstrip("%").partition(".")[2])
        return rate_error(values) <= max(0.5 * 10 ** -decimals, 1e-9) + 1e-9 if decimals else rate_error(values) <= 1.0
    return True


def split_glued(text: str, roles: list[str], named: bool = True) -> list[tuple[str, dict[str, str]]] | None:
    """Cut undelimited text into rows of ``[name] + roles``, or None when it cannot be cut one way only.

    Columns that are never filled in such text (reasons, notes) are left out of ``roles`` by the caller.

    >>> split_glued("安装坡面水标尺10≥266米≥266米10", ["weight", "target", "actual", "score"])
    [('安装坡面水标尺', {'weight': '10', 'target': '≥266米', 'actual': '≥266米', 'score': '10'})]
    """
    text = text.strip()
    if not text or len(text) > 400:
        return None
    roles = tuple(roles)

    @lru_cache(maxsize=None)
    def rows_from(start: int) -> tuple:
        """Every way to cut text[start:] into whole rows (at most MAX_PARSES)."""
        if start == len(text):
            return ((),)
        found = []
        for end, row in _one_row(text, start, roles, named):
            for rest in rows_from(end):
                found.append((row,) + rest)
                if len(found) >= MAX_PARSES:
                    return tuple(found)
        return tuple(found)

    parses = rows_from(0)
    if not parses:
        return None
    if len(parses) > 1:
        def fit(parse) -> tuple:
            """Smaller is better: the rate and score rules' errors, then the share of rows that do not repeat their target."""
            repeats = sum(1 for _, values in parse if values.get("actual") and values["actual"] == values.get("target"))
            errors = sum(rate_error(values) + score_error(values) for _, values in parse)
            return round(errors, 6), 1 - repeats / len(parse), len(parse)

        best = min(fit(p) for p in parses)
        parses = [p for p in parses if fit(p) == best]
        if len(parses) != 1:
            return None
    return [(name, dict(values)) for name, values in parses[0]]


def _one_row(text: str, start: int, roles: tuple, named: bool):
    """(end, (name, values)) for every way one row can begin at ``start``."""
    names = range(start + 1, len(text)) if named else [start]
    for name_end in names:
        name = text[start:name_end]
        if named and (len(name.strip()) < 2 or _NOT_A_NAME_START.match(name) or any(c in name for c in "≥≤<>=＞＜")):
            continue
        for end, values in _fill(text, name_end, roles, ()):
            found = dict(values)
            if _consistent(found):
                yield end, (name.strip(), found)


def _fill(text: str, at: int, roles: tuple, done: tuple):
    if not roles:
        yield at, done
        return
    role = roles[0]
    for end in range(at + 1, min(len(text), at + 24) + 1):
        piece = text[at:end]
        if shape_fits(role, piece):
            yield from _fill(text, end, roles[1:], done + ((role, piece),))


def split_spaced(tokens: list[str], roles: list[str]) -> tuple[str, dict[str, str]] | None:
    """A row of space-separated tokens as a name (one or more tokens) and values for ``roles``.

    Trailing columns may be empty (a converter drops them); the most values whose shapes fit are taken
    from the right: ``["贫困地区旅游景点开发数量(", "≥**个", ")", ">=4个"]`` with roles
    ``[target, other]`` is the name ``贫困地区旅游景点开发数量( ≥**个 )`` and the target ``>=4个``.
    """
    if len(tokens) < 2:
        return None
    for count in range(min(len(roles), len(tokens) - 1), 0, -1):
        values = dict(zip(roles, tokens[len(tokens) - count:]))
        if all(shape_fits(role, value) or role in ("other", "reason") for role, value in values.items()) \
                and any(role in ("target", "actual") for role in values) and _consistent(values):
            return " ".join(tokens[: len(tokens) - count]), values
    return None


def split_spaced_rows(tokens: list[str], roles: list[str]) -> list[tuple[str, dict[str, str]]] | None:
    """Space-separated tokens as one or more rows of ``[name tokens] + values`` (trailing columns may be empty).

    The reading that fills the most columns wins (a converter drops empty trailing cells, never full
    ones); a tie between different readings is no reading.
    """
    if len(tokens) < 2 or len(tokens) > 80:
        return None

    @lru_cache(maxsize=None)
    def best_from(start: int) -> tuple[int, int, tuple]:
        """(filled values, number of readings with that many, one such reading) for tokens[start:]."""
        if start == len(tokens):
            return 0, 1, ()
        top, count, reading = -1, 0, ()
        for end in range(start + 1, len(tokens)):
            for filled in range(min(len(roles), len(tokens) - end), 0, -1):
                values = dict(zip(roles, tokens[end:end + filled]))
                if not all(shape_fits(role, value) for role, value in values.items()) or not _consistent(values) \
                        or not any(role in ("target", "actual") for role in values):
                    continue
                rest_filled, rest_count, rest = best_from(end + filled)
                if rest_count == 0:
                    continue
                total = filled + rest_filled
                row = (" ".join(tokens[start:end]), values)
                if total > top:
                    top, count, reading = total, rest_count, (row,) + rest
                elif total == top:
                    count += rest_count
        return top, count, reading

    top, count, reading = best_from(0)
    if top <= 0 or count != 1:
        return None
    return [(name, dict(values)) for name, values in reading]
