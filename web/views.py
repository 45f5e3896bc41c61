"""What a page shows, prepared from the API's results as plain values: the templates only place and escape them.

Highlights become runs of text with a flag (the template wraps a flagged run in ``<mark>``, escaping
both); charts become small JSON documents that ``static/charts.js`` turns into ECharts options, passed
in a ``data-chart`` attribute (escaped like any attribute; no inline script).
"""
from __future__ import annotations

import json
from typing import NamedTuple
from urllib.parse import urlencode

from .params import FilterArgs, labels

FACETS = ("city", "year", "category", "department", "kind")
BY = ("year", "city", "category", "department", "kind")  # the one ``totals`` call a search page makes (``projected``)


class Group(NamedTuple):
    """A group of a total, projected onto fewer dimensions (``projected``)."""

    key: tuple
    count: int
    amount: float
    unpriced: int


def projected(totals, dimensions: tuple[str, ...]) -> list[Group]:
    """The groups of ``totals`` (by ``BY``) summed over the other dimensions: the groups ``totals`` by
    ``dimensions`` alone would give, since it counts each family-year once, under one key for every dimension
    (``tests/test_web.py`` checks it on the sample index). One scoring of the query serves the chart and the
    facets whose own filter is not chosen, where a call per facet scored the same query six times."""
    at = [totals.by.index(d) for d in dimensions]
    summed: dict[tuple, list] = {}
    for group in totals.groups:
        key = tuple(group.key[i] for i in at)
        entry = summed.setdefault(key, [0, 0.0, 0])
        entry[0] += group.count
        entry[1] += group.amount
        entry[2] += group.unpriced
    return [Group(key, count, round(amount, 2), unpriced) for key, (count, amount, unpriced) in summed.items()]


def runs(text: str, ranges) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, highlighted) runs at the highlight ``ranges`` (character offsets)."""
    out, last = [], 0
    for start, end in sorted(ranges or []):
        start, end = max(start, last), min(end, len(text))
        if start >= end:
            continue
        if start > last:
            out.append((text[last:start], False))
        out.append((text[start:end], True))
        last = end
    if last < len(text):
        out.append((text[last:], False))
    return out


def snippet_runs(hit) -> list[tuple[str, bool]]:
    """The hit's goal snippet as runs, with an ellipsis where it was cut."""
    snippet = hit.snippet
    if snippet is None:
        goal = hit.record.goal
        return [(goal[:160] + ("…" if len(goal) > 160 else ""), False)] if goal else []
    pieces = runs(snippet.text, snippet.ranges)
    if snippet.truncated_left:
        pieces.insert(0, ("…", False))
    if snippet.truncated_right:
        pieces.append(("…", False))
    return pieces


def label(dimension: str, value) -> str:
    """How a facet value reads on the page (a document kind in Chinese; an unknown value as 未知)."""
    if value is None or value == "":
        return labels()["unknown"]
    if dimension == "kind":
        return labels()["kinds"].get(value, value)
    return str(value)


def url(path: str, pairs: list[tuple[str, str]]) -> str:
    """``path?a=1&b=2`` (the values percent-encoded; the template escapes the whole)."""
    kept = [(k, v) for k, v in pairs if v not in (None, "")]
    return f"{path}?{urlencode(kept)}" if kept else path


def chosen(filters: FilterArgs, dimension: str) -> set[str]:
    """The values of a facet the request already filters on."""
    if dimension == "year":
        return {str(filters.year)} if filters.year is not None else set()
    value = getattr(filters, dimension)
    return set(value) if isinstance(value, list) else ({value} if value else set())


def toggled(base: list[tuple[str, str]], filters: FilterArgs, dimension: str, value: str) -> list[tuple[str, str]]:
    """The search's parameters with one facet value chosen, or no longer chosen when it was."""
    names = ("year", "years") if dimension == "year" else (dimension,)
    pairs = [(k, v) for k, v in filters.pairs() if k not in names]
    if value in chosen(filters, dimension):
        if dimension in ("city", "category", "kind"):
            pairs += [(dimension, v) for v in chosen(filters, dimension) if v != value]
    elif dimension in ("city", "category", "kind"):
        pairs += [(dimension, v) for v in sorted(chosen(filters, dimension))] + [(dimension, value)]
    else:
        pairs.append((dimension, value))
    return base + pairs


def facet(dimension: str, groups, filters: FilterArgs, base: list[tuple[str, str]]) -> dict:
    """One facet: its values with the count and 万元 of the query's matching projects, most money first."""
    picked = chosen(filters, dimension)
    rows = []
    for group in groups:
        value = group.key[0]
        rows.append({"label": label(dimension, value), "count": group.count, "amount": round(group.amount, 2),
                     "selected": value is not None and str(value) in picked,
                     "url": None if value is None else url("/", toggled(base, filters, dimension, str(value)))})
    if dimension == "year":
        rows.sort(key=lambda r: r["label"], reverse=True)
    else:
        rows.sort(key=lambda r: (-r["amount"], -r["count"], r["label"]))
    return {"name": dimension, "title": labels()["facets"][dimension], "rows": rows}


def totals_chart(groups) -> str:
    """Amount by year, one series per city (groups keyed by year and city), as the JSON ``charts.js`` reads."""
    years = sorted({g.key[0] for g in groups if g.key[0] is not None})
    cities = sorted({g.key[1] or labels()["unknown"] for g in groups})
    amounts: dict[tuple, float] = {}
    for g in groups:
        key = (g.key[0], g.key[1] or labels()["unknown"])
        amounts[key] = amounts.get(key, 0.0) + g.amount
    series = [{"name": city, "data": [round(amounts.get((year, city), 0.0), 2) for year in years]} for city in cities]
    return json.dumps({"kind": "stacked", "x": [str(y) for y in years], "series": series, "unit": "万元"},
                      ensure_ascii=False)


def family_chart(view) -> str:
    """A family's budget (and, where a self-evaluation says, spending) by year; years whose goal changed are marked."""
    years = [y for y in view.years if y.year is not None]
    changed = sorted({m.year for m, c in zip(view.members, view.goal_changed) if c and m.year is not None})
    series = [{"name": "预算金额", "data": [y.amount for y in years]}]
    if any(y.executed is not None for y in years):
        series.append({"name": "执行数", "data": [y.executed for y in years]})
    return json.dumps({"kind": "family", "x": [str(y.year) for y in years], "series": series, "unit": "万元",
                       "marked": [str(y) for y in changed], "mark_label": "目标变更"}, ensure_ascii=False)


def fields(record) -> list[tuple[str, str]]:
    """Every field of a record with its Chinese label, as text (lists joined; empty fields left out)."""
    data = record.to_dict()
    out = []
    for name, title in labels()["fields"].items():
        value = data.get(name)
        if value in (None, "", [], {}):
            continue
        if name == "kind":
            value = labels()["kinds"].get(value, value)
        elif name == "sections":
            value = "；".join(labels()["sections"].get(s, s) for s in value)
        elif name == "amounts":
            value = "；".join(f"{k}：{v:,.2f}" for k, v in value.items())
        elif name == "complete":
            value = "是" if value else "否（文件在此记录中截断）"
        elif isinstance(value, list):
            value = "；".join(str(v) for v in value)
        elif isinstance(value, float):
            value = f"{value:,.2f}"
        out.append((title, str(value)))
    return out


def money(value) -> str:
    """万元 with thousands separators and two decimals; an unknown amount as —."""
    return "—" if value is None else f"{value:,.2f}"
