"""GoalSearch: the Python API that the CLI is a thin layer over — the verbs that rank.

    >>> gs = GoalSearch.open("index")
    >>> hits = gs.search("政务云运维", city=["广州"], limit=5)
    >>> hits[0].record.name
    '广州市政务服务和数据管理局2024-2027年广州市数字政府政务云服务运维项目'

Opening, pinning and closing the index, and reading records, are ``IndexReader``'s (``search.reader``).
"""
from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..indexer import AmbiguousRecord, Record, UsageError
from ..indexer.analysis.analyzer import query_terms

from .families import FamilyHit, FamilySort, FamilyView, GroupBy, family_by_id, group_hits, list_families
from .families import looks_like_family_id, view
from .filters import Filters, check_contradictions, check_known
from .feedback import name_first, rocchio
from .fusion import FusionMethod, fuse, fusion_settings, parts
from .highlight import highlight_ranges, snippet
from .hits import Hit, SearchMode
from .inputs import clean_query
from .lexical.bm25 import is_syntax
from .lexical.synonyms import Expansion
from .reader import MAX_QUERY_CHARS, IndexReader, sample_corpus

if TYPE_CHECKING:
    from .duplicates import Duplicates
    from .stats import Stats
    from .totals import Totals

__all__ = ["GoalSearch", "Hit", "SearchMode", "sample_corpus"]

DEFAULT_RRF_K = 60
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")


class GoalSearch(IndexReader):
    """An open index and what can be asked of it: search, similar, families, duplicates, stats.

    Open it with ``GoalSearch.open``. While open it pins its generation (``IndexReader``), so updates
    that publish newer ones leave it readable until ``close``.
    """

    def __init__(self, index_dir: Path, generation: Path, manifest: dict, model: str | None,
                 pinned: int | None = None) -> None:
        super().__init__(index_dir, generation, manifest, model, pinned)
        self.problems: list[str] = []  # notes on the last query (parts left out, unknown words)
        self.expansions: list[Expansion] = []  # the synonyms the last search used

    def _allowed(self, filters: Filters, exclude: np.ndarray | None = None) -> np.ndarray | None:
        """The rows a search may return (a mask over the store's rows; None: all)."""
        if not filters.active and exclude is None:
            return None
        check_known(filters, self.store)
        allowed = filters.mask(self.store) if filters.active else np.ones(len(self.store), dtype=bool)
        return allowed & ~exclude if exclude is not None else allowed

    def _allowed_ids(self, allowed: np.ndarray | None) -> set[str] | None:
        return None if allowed is None else {self.ids[row] for row in np.flatnonzero(allowed)}

    # -- searching -----------------------------------------------------------------
    def search(self, query: str = "", mode: str | SearchMode = SearchMode.HYBRID, city: list[str] | str | None = None,
               years: tuple[int | None, int | None] | None = None, year: int | None = None,
               department: str | None = None, unit: str | None = None, category: list[str] | str | None = None,
               min_amount: float | None = None, max_amount: float | None = None, section: list[str] | str | None = None,
               limit: int = 10, fusion: str | FusionMethod | None = None, rrf_k: int = DEFAULT_RRF_K,
               depth: int | None = None, highlight: bool = True, group: str | GroupBy | None = None,
               kind: list[str] | str | None = None) -> list[Hit] | list[FamilyHit]:
        """Search by words and meaning, filtered, best first.

        Args:
            query: words, a description, or Whoosh syntax; empty lists the filtered projects by amount.
            mode: ``hybrid`` (BM25 and semantic fused), ``bm25`` or ``semantic``.
            city, years/year, department, unit, category, min_amount, max_amount, section, kind: filters
                (``kind``: budget, goal_form, self_evaluation — the kind of document).
            limit: how many hits.
            fusion: ``convex`` (default, ``data/fusion.json``) or ``rrf``.
            rrf_k: the RRF constant.
            depth: candidates taken from each side before fusion (default ``max(100, 5 × limit)``).
            highlight: compute highlights and snippets (re-tokenizes each hit's goal; off for bulk use).
            group: ``"family"`` returns one ``FamilyHit`` per project family instead, in the order of each
                family's best hit, showing its newest member, years and amounts.
        """
        if group is not None:
            GroupBy.parse(group)
            wanted = min(len(self.store), max(limit * 10, _depth(limit))) or 1
            hits = self.search(query, mode, city, years, year, department, unit, category, min_amount, max_amount,
                               section, wanted, fusion, rrf_k, depth, highlight, kind=kind)
            return group_hits(hits, self.family_index, self.by_id, limit)
        filters = _filters(city, years, year, department, unit, category, min_amount, max_amount, section, kind)
        return self._search(query, SearchMode.parse(mode), filters, limit, fusion, rrf_k, depth, highlight)

    def ranking(self, query: str, mode: str | SearchMode = SearchMode.HYBRID, limit: int = 10,
                fusion: str | FusionMethod | None = None) -> list[tuple[str, float]]:
        """``search``'s (id, score) pairs, unfiltered, without reading a record: what a total needs of a
        ranking (``search.totals``; reading 1,000 records with their families was 0.4 s of a total at 100k)."""
        return self._search(query, SearchMode.parse(mode), Filters(), limit, fusion, DEFAULT_RRF_K,
                            None, False, pairs=True)

    def _search(self, query: str, mode: SearchMode, filters: Filters, limit: int, fusion, rrf_k: int,
                depth: int | None, highlight: bool, pairs: bool = False) -> list[Hit] | list[tuple[str, float]]:
        fusion = FusionMethod.parse(fusion or fusion_settings()["method"])
        if limit < 1:
            raise UsageError(f"limit must be at least 1, got {limit}")
        query, notes = clean_query(query or "", MAX_QUERY_CHARS * 5)
        query = _simplified(query)
        self.problems = notes
        self.expansions = []
        allowed = self._allowed(filters)
        if not query.strip():
            listed = self.store.by_amount(allowed, limit)
            if pairs:
                return [(record.id, record.amount or 0.0) for record, _ in listed]
            return [Hit(r, r.amount or 0.0, i, family_id=family) for i, (r, family) in enumerate(listed, start=1)]
        if not _WORDLIKE.search(query):
            self.problems.append("the query has no words or numbers to search for")
            return []
        depth = depth or _depth(limit)
        if self._unknown_words(query, mode) and mode is SearchMode.HYBRID:
            return []
        return self._ranked(query, None, mode, allowed, limit, depth, (fusion, rrf_k), set(), highlight, pairs)

    def _unknown_words(self, query: str, mode: SearchMode) -> bool:
        """Note the query's Latin words that no project has; True when no word of it occurs anywhere.

        The semantic side always finds nearest neighbours, so a query like ``cloud`` would get
        three unrelated projects dressed as matches; hybrid search returns nothing and says why,
        and semantic mode says that its ranking is by meaning alone. The note names no option:
        totals, which has no mode, gives the same one, and the web page shows it once.
        """
        known = self.bm25.known_words(query)
        if known is None:
            return False
        found, missing = known
        if found and not missing:
            return False
        note = f"no project mentions {', '.join(missing)}" if missing else "no word of the query occurs in any project"
        if not found:
            note += "; ranked by meaning alone" if mode is SearchMode.SEMANTIC else "; nothing found"
        self.problems.append(note)
        return not found

    def _ranked(self, text: str, vector, mode: SearchMode, allowed: np.ndarray | None, limit: int, depth: int,
                fusion: tuple[FusionMethod, int], exclude: set[str], highlight: bool = True,
                pairs: bool = False) -> list[Hit] | list[tuple[str, float]]:
        bm25_hits: list[tuple[str, float]] = []
        semantic_hits: list[tuple[str, float]] = []
        terms: set[str] = set()
        meaning = self.bm25.meaning(text) if vector is None and mode is not SearchMode.BM25 else None
        feedback = fusion_settings()["feedback"]  # Rocchio over the first fused ranking (search.feedback)
        plain = vector is None and meaning is None and not is_syntax(text)
        moves = plain and mode is not SearchMode.BM25 and feedback["docs"] > 0
        if mode in (SearchMode.HYBRID, SearchMode.BM25) or meaning is not None or moves:
            wanted = len(self.store) if meaning is not None else limit if mode is SearchMode.BM25 else depth
            bm25_hits, terms, problems = self.bm25.search(text, allowed, wanted, exclude)
            self.problems.extend(problems)
            self.expansions = self.bm25.expansions(text)
        if meaning is not None:  # fields, AND and NOT say which projects qualify; meaning only ranks them
            allowed = np.zeros(len(self.store), dtype=bool)
            allowed[[self.store.row[doc_id] for doc_id, _ in bm25_hits]] = True
            bm25_hits = bm25_hits[:depth]
            text = meaning
        if mode in (SearchMode.HYBRID, SearchMode.SEMANTIC) and text:
            if vector is None:
                vector = self.encode_query(text)
            first_depth = limit if mode is SearchMode.SEMANTIC and not moves else depth
            semantic_hits = self.vectors.search(vector, allowed, first_depth, exclude)
            # the feedback records are the top of the shipped fusion whatever ``fusion`` says: that option is how
            # hybrid fuses its final list, and semantic mode must not depend on it
            first = fuse(FusionMethod.parse(fusion_settings()["method"]), bm25_hits, semantic_hits,
                         rrf_k=DEFAULT_RRF_K)[:feedback["docs"]] if moves else []
            if first:
                vector = rocchio(vector, self.vectors.centroid([doc_id for doc_id, _ in first]), feedback["beta"])
                semantic_hits = self.vectors.search(vector, allowed, limit if mode is SearchMode.SEMANTIC else depth,
                                                    exclude)
        named: set[str] = set()  # ranked first: the name holds the short query whole (search.feedback)
        split: dict[str, tuple[float, float]] = {}  # hybrid: each side's part of the fused score, for --explain
        if mode is SearchMode.BM25:
            fused = bm25_hits
            named = set(self.bm25.holding)
        elif mode is SearchMode.SEMANTIC:
            fused = semantic_hits if text else bm25_hits
            bm25_hits = []  # only guided the vector; a semantic hit shows no BM25 rank
        else:
            fused = fuse(fusion[0], bm25_hits, semantic_hits, rrf_k=fusion[1])
            split = parts(fusion[0], bm25_hits, semantic_hits, rrf_k=fusion[1])
            if plain and self.bm25.holding:  # names that hold a short query whole, among BM25's first candidates
                head = bm25_hits[:fusion_settings()["depth"]]
                named = {doc_id for doc_id, _ in head if doc_id in self.bm25.holding}
                fused = name_first(fused, named)
        bm25_at = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(bm25_hits, start=1)}
        semantic_at = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(semantic_hits, start=1)}
        if highlight and not terms and text:
            terms = set(query_terms(text[:MAX_QUERY_CHARS], self.extra_words))
        if pairs:
            return [(doc_id, float(score)) for doc_id, score in fused[:limit]]
        hits = []
        shown = fused[:limit]
        found = self.store.with_families(self.store.row[doc_id] for doc_id, _ in shown)
        for rank, ((doc_id, score), (record, family_id)) in enumerate(zip(shown, found), start=1):
            b_rank, b_score = bm25_at.get(doc_id, (None, None))
            s_rank, s_score = semantic_at.get(doc_id, (None, None))
            b_part, s_part = split.get(doc_id, (None, None))
            how = dict(bm25_part=b_part, semantic_part=s_part, name_first=doc_id in named)
            if not highlight:
                hits.append(Hit(record, float(score), rank, b_rank, b_score, s_rank, s_score, family_id=family_id, **how))
                continue
            highlights = {name: highlight_ranges(getattr(record, name), terms, self.extra_words) for name in ("name", "goal")}
            text = f"{record.name} {' '.join(record.aliases)} {record.goal}".lower()
            synonyms = [a for e in self.expansions for a in e.alternatives if a.lower() in text]
            hits.append(Hit(record, float(score), rank, b_rank, b_score, s_rank, s_score, highlights,
                            snippet(record.goal, highlights["goal"]), synonyms, family_id, **how))
        return hits

    def similar(self, id_or_name: str | None = None, text: str | None = None, limit: int = 10,
                other_cities: bool = False, other_years: bool = False, mode: str | SearchMode = SearchMode.HYBRID,
                city=None, years=None, year=None, department=None, unit=None, category=None,
                min_amount=None, max_amount=None, section=None, fusion: str | FusionMethod | None = None,
                rrf_k: int = DEFAULT_RRF_K, include_family: bool = False, kind=None) -> list[Hit]:
        """Projects most like a given one (by id or name) or like a pasted description; never the project itself.

        With ``other_cities`` or ``other_years``, members of the project's own family (the same
        project in other budget years) are left out too, unless ``include_family``.
        """
        if (id_or_name is None) == (text is None):
            raise UsageError("give a project id or name, or --text with a description (not both)")
        mode = SearchMode.parse(mode)
        fused_by = (FusionMethod.parse(fusion or fusion_settings()["method"]), rrf_k)
        filters = _filters(city, years, year, department, unit, category, min_amount, max_amount, section, kind)
        self.problems = []
        self.expansions = []
        if text is not None:
            if other_cities or other_years or include_family:
                raise UsageError("--other-cities, --other-years and --include-family compare with a stored project's "
                                 "city, year and family; a --text has none (filter with --city or --years instead)")
            text, self.problems = clean_query(text, MAX_QUERY_CHARS * 5)
            text = _simplified(text)
            if not _WORDLIKE.search(text):
                raise UsageError("--text has no words to compare")
            return self._ranked(text, None, mode, self._allowed(filters), limit, _depth(limit), fused_by, set())
        record = self.find(id_or_name)
        check_contradictions(record, filters, other_cities, other_years)
        exclude = None
        if other_cities or other_years:
            exclude = self._same_as(record, other_cities, other_years, include_family)
        allowed = self._allowed(filters, exclude)
        vector = self.vectors.vector_of(record.id) if mode is not SearchMode.BM25 else None
        probe = f"{record.name} {record.goal[:200]}"
        hits = self._ranked(probe, vector, mode, allowed, limit, _depth(limit), fused_by, {record.id})
        self.problems = []  # the probe is ours, not the user's: its word count is no news
        return hits

    def _same_as(self, record: Record, city: bool, year: bool, include_family: bool) -> np.ndarray:
        """The rows in ``record``'s city (``city``) or budget year (``year``), and, unless
        ``include_family``, the members of its family: what ``similar --other-cities/--other-years`` leaves out."""
        row = self.store.row[record.id]
        same = np.zeros(len(self.store), dtype=bool)
        for wanted, column in ((city, "city"), (year, "year")):
            if wanted:
                values = self.store.array(column)
                same |= values == values[row]
        own = None if include_family else self.family_id_of(record.id)
        if own is not None:
            same[self.store.rows_of_family(own)] = True
        return same

    def family(self, id_or_name: str) -> FamilyView:
        """The family of a project (record id, exact name) or a family id: members by year, amounts and changes.

        A name several records share (the same project in two budget years) is no ambiguity when they
        are all one family.

            >>> gs.family("市人社数据服务中心社保卡制发管理服务经费").years
            [YearAmount(year=2024, amount=1339.99, ...), YearAmount(year=2026, amount=384.95, change=-955.04, change_pct=-71.3)]
        """
        index = self.family_index
        if looks_like_family_id(id_or_name):
            return view(family_by_id(index, id_or_name), self.by_id)
        try:
            record = self.find(id_or_name)
        except AmbiguousRecord as exc:
            found = {index.of_record[r.id].id for r in exc.candidates if r.id in index.of_record}
            if len(found) != 1:
                raise
            record = exc.candidates[0]
        return view(index.of_record[record.id], self.by_id)

    def families(self, sort: str | FamilySort = FamilySort.TOTAL, min_members: int = 2, limit: int | None = None,
                 min_years: int = 2,
                 city=None, years=None, year=None, department=None, unit=None, category=None,
                 min_amount=None, max_amount=None, section=None, kind=None) -> list[FamilyView]:
        """The project families with at least ``min_members`` members, one of which passes the filters.

        Args:
            sort: ``total`` (amount over all years, largest first), ``growth`` (first to last budget
                year, in %, largest first) or ``years`` (most budget years first).
            min_members: leave out smaller families (1 lists every project).
            min_years: leave out families seen in fewer budget years (2: projects that recur across years;
                1 also lists two projects of one year that are one family).
            limit: at most this many.
        """
        sort = FamilySort.parse(sort)
        if min_members < 1 or min_years < 1:
            raise UsageError(f"min_members and min_years must be at least 1, got {min_members} and {min_years}")
        filters = _filters(city, years, year, department, unit, category, min_amount, max_amount, section, kind)
        return list_families(self.family_index, self.by_id, self._allowed_ids(self._allowed(filters)), sort, min_members,
                             limit, min_years)

    def duplicates(self, threshold: float | None = None, limit: int | None = 50, city=None, years=None, year=None,
                   department=None, unit=None, category=None, min_amount=None, max_amount=None,
                   section=None, kind=None) -> "Duplicates":
        """Pairs and clusters of projects of different units, departments or cities whose goals are nearly the
        same text (``search.duplicates``), members of one family left out.

        Args:
            threshold: least share of the shorter goal found in the other (0–1; default 0.6).
            limit: most pairs, most similar first.
            city, years/year, …: both projects of a pair pass these filters.
        """
        from .duplicates import find_duplicates

        filters = _filters(city, years, year, department, unit, category, min_amount, max_amount, section, kind)
        allowed = self._allowed(filters)
        records = self.records if allowed is None else self.store.at_rows(np.flatnonzero(allowed))
        family_of = {m: f.id for f in self.family_index.families if len(f.members) > 1 for m in f.members}
        return find_duplicates(records, family_of, threshold, limit)

    def totals(self, query: str = "", by: Sequence[str] | str = ("year",), *, match: str = "default",
               city=None, years=None, year=None, department=None, unit=None, category=None,
               min_amount=None, max_amount=None, section=None, kind=None) -> "Totals":
        """How many projects match ``query`` and what they cost, in all and per group (``search.totals``).

        Args:
            by: group by any of year, city, department, unit, category, kind (a group's key: one value each, in this order).
            match: which projects count: ``strict`` (every query word or a synonym in name, goal or
                indicators), ``default`` (strict, or a fused score above a threshold fitted on the dev set)
                or ``broad`` (any word). The total's ``rule`` says it in words.
            city, years/year, …: the filters of ``search``. An empty query counts every project they allow.

        A project family (``family``) counts once per budget year, however many tables state it.
        """
        from .totals import count_totals

        allowed = self._allowed(_filters(city, years, year, department, unit, category, min_amount, max_amount,
                                         section, kind))
        query, self.problems = clean_query(query or "", MAX_QUERY_CHARS * 5)
        self.expansions = []
        return count_totals(self, _simplified(query), by, match, allowed)

    # -- about the index -----------------------------------------------------------
    def stats(self) -> "Stats":
        """Records by city, year, department and category; files and rows accounted for; sizes."""
        from .stats import index_stats

        return index_stats(self)


def _depth(limit: int) -> int:
    """Candidates each side gives the fusion: ``depth`` of ``data/fusion.json``, or 5 × the hits asked for."""
    return max(fusion_settings()["depth"], 5 * limit)


def _filters(city, years, year, department, unit, category, min_amount, max_amount, section, kind=None) -> Filters:
    if year is not None:
        if years not in (None, (None, None)):
            low, high = years
            raise UsageError(f"--year {year} and --years {low or ''}-{high or ''} contradict each other: "
                             "both choose the years; give one of them")
        years = (year, year)
    as_list = lambda v: [v] if isinstance(v, str) else list(v or [])  # noqa: E731
    return Filters(city=as_list(city), years=tuple(years) if years else (None, None), department=department or None,
                   unit=unit or None, category=as_list(category), min_amount=min_amount, max_amount=max_amount,
                   section=as_list(section), kind=as_list(kind))


_converter = None


def _simplified(text: str) -> str:
    """Traditional characters to simplified (社會保障卡 → 社会保障卡), with OpenCC."""
    global _converter
    if not text:
        return text
    if _converter is None:
        import opencc

        _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)
