"""Totals for a query: which projects match, counted once per family and year, summed by year, city, ….

A ranked list always has a next hit; a total needs a line between the projects that count and the
rest. ``matching_rows`` draws it by one of three rules (``MatchRule``, settings in ``data/totals.json``):

- ``strict``: every word of the query, or a synonym of it (``search.lexical.synonyms``), is in the
  project's name, goal or indicators (jieba words of those fields in the term matrices, a long word
  also found as all of its dictionary parts);
- ``broad``: any of those words;
- ``default``: every word (or a synonym) in the project's name, or a hybrid fused score (``search.fusion``,
  in [0, 1]) of at least a threshold fitted once over every judged query of the dev set
  (``benchmarks/totals_matching.py``). A word found only in a goal is often a mention in passing (a 运维
  project whose goal names the 社保卡 system it keeps running); the fused score weighs it against the rest.

A query with syntax (fields, AND, NOT) selects its projects itself, whatever the rule; an empty query
counts every project the filters allow. Precision and recall of each rule are in ``benchmarks/README.md``.

``count_totals`` then counts a project once per family and budget year (``indexer.families``): the same
project in a budget table and its goal form, or two budget lines of one family in one year, is one
project that year, its amount taken as ``indexer.families.amounts_by_year`` takes it (the budget
table's records where the year has them, else the goal form's, else the self-evaluation's).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..indexer import UsageError
from ..indexer.analysis.ngrams import char_grams
from ..indexer.files import data_json

from .lexical.bm25 import is_syntax

if TYPE_CHECKING:  # the index is a GoalSearch (search.api imports this module, so typed by its base class)
    from .lexical.matrices import LexicalSide
    from .lexical.plain import PlainQuery
    from .reader import IndexReader

DIMENSIONS = ("year", "city", "department", "unit", "category", "kind")


@lru_cache(maxsize=1)
def totals_settings() -> dict:
    """The matching rules' fields, threshold and wording (``data/totals.json``)."""
    return data_json("totals.json")


class MatchRule(str, Enum):
    """Which projects a total counts: every query word, a fitted line between the two, or any word."""

    STRICT = "strict"
    DEFAULT = "default"
    BROAD = "broad"

    @classmethod
    def parse(cls, value: "str | MatchRule") -> "MatchRule":
        try:
            return cls(value)
        except ValueError:
            raise UsageError(f"unknown match rule {str(value)[:40]!r}; choose one of {', '.join(m.value for m in cls)}") from None


@dataclass(frozen=True)
class TotalsGroup:
    """One group of a total: its key (one value per ``by`` dimension), how many projects and how much."""

    key: tuple[str | int | None, ...]
    count: int
    amount: float
    unpriced: int
    ids: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"key": list(self.key), "count": self.count, "amount": self.amount, "unpriced": self.unpriced,
                "ids": list(self.ids)}


@dataclass(frozen=True)
class Totals:
    """What the projects matching a query cost, in all and per group, and how the matching set was decided."""

    query: str
    by: tuple[str, ...]
    match: str
    rule: str
    count: int
    amount: float
    unpriced: int
    groups: tuple[TotalsGroup, ...]

    def to_dict(self) -> dict:
        return {"query": self.query, "by": list(self.by), "match": self.match, "rule": self.rule, "count": self.count,
                "amount": self.amount, "unpriced": self.unpriced, "groups": [g.to_dict() for g in self.groups]}


def parse_by(by: Sequence[str] | str) -> tuple[str, ...]:
    """The grouping dimensions, checked: ``"year"`` → ``("year",)``; an unknown or repeated one is a usage error."""
    wanted = (by,) if isinstance(by, str) else tuple(by)
    for name in wanted:
        if name not in DIMENSIONS:
            raise UsageError(f"cannot group by {str(name)[:40]!r}; choose from {', '.join(DIMENSIONS)}")
    if len(set(wanted)) != len(wanted):  # every name is known here, so the list shown is short but for repeats
        shown = ", ".join(wanted[:len(DIMENSIONS) + 1]) + (", …" if len(wanted) > len(DIMENSIONS) + 1 else "")
        raise UsageError(f"--by {shown}: a dimension is given twice")
    return wanted


# -- the matching set ------------------------------------------------------------------
def word_matches(lexical: LexicalSide, plain: PlainQuery, fields: Sequence[str],
                 ngram_fields: Sequence[str] = ()) -> tuple[np.ndarray, int]:
    """How many of the query's word groups each row has, and how many groups there are.

    A group is found where its word is a jieba word of one of ``fields`` or all of its character bigrams are
    in one of ``ngram_fields`` (a word the document's segmentation cut otherwise), where its dictionary parts
    are when they spell all of it, or where a synonym of a query term that overlaps the word is, as a whole.
    """
    rows = len(lexical.ids)
    found: dict[str, np.ndarray] = {}

    def in_field(term: str, name: str) -> np.ndarray:
        hit = np.zeros(rows, dtype=bool)
        found_rows = lexical.field_rows(name, term)
        if found_rows is not None:
            hit[found_rows] = True
        return hit

    def present(term: str) -> np.ndarray:
        """A jieba word of the fields, or all of the term's bigrams in one n-gram field (segmentation aside)."""
        if term not in found:
            hit = np.zeros(rows, dtype=bool)
            for name in fields:
                hit |= in_field(term, name)
            grams = char_grams(term)
            grams = [g for g in grams if len(g) > 1] or grams
            for name in ngram_fields:
                if grams:
                    hit |= np.logical_and.reduce([in_field(gram, name) for gram in grams])
            found[term] = hit
        return found[term]

    def group_hit(word: str, parts: tuple[str, ...]) -> np.ndarray:
        """The word, or its dictionary parts when they spell all of it (``社会`` ``保障`` are not ``社会保障卡``)."""
        hit = present(word)
        if parts and "".join(parts) == word:
            hit = hit | np.logical_and.reduce([present(part) for part in parts])
        return hit

    synonyms = []
    for expansion in plain.expansions:
        hit = np.zeros(rows, dtype=bool)
        for alternative in expansion.alternatives:  # as a whole: 运维服务管理, not 运维 … 服务 … 管理
            hit |= present(alternative.lower())
        synonyms.append((expansion.term.lower(), hit))
    count = np.zeros(rows, dtype=np.int32)
    for word, parts in plain.groups:
        hit = group_hit(word, parts)
        for term, alternative_hit in synonyms:
            if word.lower() in term or term in word.lower():
                hit = hit | alternative_hit
        count += hit
    return count, len(plain.groups)


def fused_scores(index: IndexReader, query: str) -> np.ndarray:
    """Each row's hybrid fused score (``search.api``, convex fusion) among the first ``fused_candidates`` hits of
    the whole index; -1 for the rest.

    Unfiltered on purpose: both sides' scores are normalised over the candidates (``search.fusion``), so ranking
    only the filtered rows would move the line with the filters, and ``--year 2026`` would count other projects
    than the 2026 row of ``--by year``.
    """
    scores = np.full(len(index.store), -1.0)
    limit = min(len(index.store), totals_settings()["fused_candidates"])
    if limit >= 1:
        for doc_id, score in index.ranking(query, "hybrid", limit, "convex"):
            scores[index.store.row[doc_id]] = score
    return scores


def bm25_scores(index: IndexReader, query: str, allowed: np.ndarray | None) -> np.ndarray:
    """Each row's BM25 score for ``query`` (-1 where it matches nothing): the order of the word rules' matches."""
    scores = np.full(len(index.store), -1.0)
    hits, _, problems = index.bm25.search(query, allowed, len(index.store))
    index.problems.extend(problems)
    for doc_id, score in hits:
        scores[index.store.row[doc_id]] = score
    return scores


def matching_rows(index: IndexReader, query: str, rule: MatchRule, allowed: np.ndarray | None) -> tuple[list[int], str]:
    """The rows of the projects that count, best match first, and the one line that says how they were chosen."""
    settings = totals_settings()
    wording = settings["rules"]
    rows = np.arange(len(index.store)) if allowed is None else np.flatnonzero(allowed)
    if not query.strip():
        amount = np.nan_to_num(index.store.array("amount"), nan=-1.0)
        return [int(row) for row in rows[np.lexsort((rows, -amount[rows]))]], wording["empty"]
    if is_syntax(query):
        score = bm25_scores(index, query, allowed)
        keep, line = score > -1.0, wording["syntax"]
    else:
        lexical = index.bm25.lexical
        if lexical is None:
            raise UsageError(f"index {index.index_dir} was built before totals could count words; "
                             "run `goalsearch index --rebuild PATH`")
        plain = index.bm25.parse(query).plain
        groups = len(plain.groups)
        if not groups:
            index.problems.append("the query has no words to count projects by")
            return [], wording[rule.value].format(fused_min=settings["default_fused_min"])
        if rule is MatchRule.DEFAULT:
            named, _ = word_matches(lexical, plain, settings["name_fields"], settings["name_ngram_fields"])
            score = fused_scores(index, query)
            keep = (named >= groups) | (score >= settings["default_fused_min"])
        else:
            count, _ = word_matches(lexical, plain, settings["fields"], settings["ngram_fields"])
            score = bm25_scores(index, query, allowed)
            keep = count >= (1 if rule is MatchRule.BROAD else groups)
        line = wording[rule.value].format(fused_min=settings["default_fused_min"])
        _note_the_line(index, rule, groups, int(np.count_nonzero(keep[rows])), len(rows))
    rows = rows[keep[rows]]
    return [int(row) for row in rows[np.lexsort((rows, -score[rows]))]], line  # best first, ties in row order


def _note_the_line(index: IndexReader, rule: MatchRule, groups: int, matched: int, allowed: int) -> None:
    """Say when a word rule is the wrong tool: strict finds nothing for many words (a description has more
    words than any project holds), broad finds most of the index (every project has one of them)."""
    if rule is MatchRule.STRICT and not matched and groups > 1:
        index.problems.append(f"no project has all {groups} words of the query; --match default counts "
                              "by score as well")
    elif rule is MatchRule.BROAD and allowed >= 20 and matched > allowed // 2:
        index.problems.append(f"{matched:,} of {allowed:,} projects have a word of the query; --match default "
                              "counts the close ones")


# -- counting ---------------------------------------------------------------------------
def _families(index: IndexReader, rows: list[int]) -> dict[int, str | None]:
    """The family id of each row (an index built before families were stored computes them in memory)."""
    if index.store.family_count:
        return index.store.families_of(rows)
    of_record = index.family_index.of_record
    return {row: (of_record[index.ids[row]].id if index.ids[row] in of_record else None) for row in rows}


class _Columns:
    """The store's filter columns, as values per row (facet codes turned into names)."""

    def __init__(self, store) -> None:
        self.store = store
        self.year = store.array("year")
        self.amount = store.array("amount")
        self._facets: dict[str, tuple[np.ndarray, list[str]]] = {}

    def value(self, name: str, row: int) -> str | int | None:
        if name == "year":
            year = int(self.year[row])
            return None if year == -1 else year
        if name == "kind" and not self.store.has_column("kind"):
            return "budget"  # a store written before forms were read holds budget records only
        if name not in self._facets:
            self._facets[name] = (self.store.array(name), self.store.facet(name))
        codes, values = self._facets[name]
        return values[int(codes[row])] or None


def count_totals(index: IndexReader, query: str, by: Sequence[str] | str, match: str | MatchRule,
                 allowed: np.ndarray | None) -> Totals:
    """Count and sum the projects matching ``query`` among ``allowed`` rows (the mask of ``GoalSearch``'s
    filters; None: all), a family once per budget year."""
    dimensions = parse_by(by)
    rule = MatchRule.parse(match)
    rows, rule_line = matching_rows(index, query, rule, allowed)
    columns = _Columns(index.store)
    family = _families(index, rows)
    kind_order = totals_settings()["kind_order"]
    units: dict[tuple, list[int]] = {}  # (family or the record alone, year) → its matching rows, best first
    for row in rows:
        units.setdefault((family.get(row) or f"row:{row}", columns.value("year", row)), []).append(row)
    grouped: dict[tuple, list] = {}
    for members in units.values():
        kinds = {row: columns.value("kind", row) for row in members}
        priced = [k for k in kind_order if any(kinds[r] == k and not np.isnan(columns.amount[r]) for r in members)]
        present = [k for k in kind_order if k in kinds.values()]
        chosen = (priced or present or [kinds[members[0]]])[0]
        counted = [r for r in members if kinds[r] == chosen] or members
        amounts = [float(columns.amount[r]) for r in counted if not np.isnan(columns.amount[r])]
        key = tuple(columns.value(name, counted[0]) for name in dimensions)
        grouped.setdefault(key, []).append((counted, sum(amounts), not amounts))
    groups = []
    for key in sorted(grouped, key=lambda k: tuple((v is None, v if v is not None else "") for v in k)):
        found = grouped[key]
        groups.append(TotalsGroup(key, len(found), round(sum(a for _, a, _ in found), 2), sum(u for _, _, u in found),
                                  tuple(index.ids[r] for counted, _, _ in found for r in counted)))
    everything = [entry for found in grouped.values() for entry in found]
    return Totals(query, dimensions, rule.value, rule_line, len(everything), round(sum(a for _, a, _ in everything), 2),
                  sum(u for _, _, u in everything), tuple(groups))
