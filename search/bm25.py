"""The BM25 side: Whoosh over jieba tokens, with field boosts and filters as allowed-doc sets.

A plain query is cut into terms and asked twice: first every term must match
(in any field), then any term may; hits of the first kind rank first, so partial
matches still come back without outranking complete ones. A query with Whoosh
syntax (``name:运维 AND year:2026``, ``"信息化运维"``) goes to Whoosh's parser; if
that fails, the words are searched plainly and the problem is reported.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import And, NullQuery, Or, Query, Term
from whoosh.scoring import BM25F

from indexer.analyzer import query_groups

TEXT_FIELDS = ("name", "aliases", "goal", "unit", "department")
MAX_TERMS = 64
_SYNTAX = re.compile(r'"|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b|\b[a-z_]+:|[()*]')


@lru_cache(maxsize=1)
def field_boosts() -> dict[str, float]:
    """Query-time boosts per field, from package data."""
    data = json.loads(resources.files("indexer").joinpath("data/fields.json").read_text("utf-8"))
    return data["field_boosts"]


class BM25Side:
    """A warm Whoosh searcher over one generation, reused across queries."""

    def __init__(self, directory: Path, extra_words: tuple[str, ...]) -> None:
        self.index = whoosh_index.open_dir(str(directory))
        self.searcher = self.index.searcher(weighting=BM25F())
        self.extra_words = extra_words
        self.docnum = {fields["id"]: num for num, fields in self.searcher.iter_docs()}

    def close(self) -> None:
        self.searcher.close()
        self.index.close()

    def ids(self) -> set[str]:
        return set(self.docnum)

    def _plain(self, groups: list[tuple[str, tuple[str, ...]]]) -> tuple[Query, Query]:
        boosts = field_boosts()

        def anywhere(term: str) -> Query:
            return Or([Term(f, term, boost=boosts.get(f, 1.0)) for f in TEXT_FIELDS])

        per_word = [Or([anywhere(word), And([anywhere(p) for p in parts])]) if parts else anywhere(word)
                    for word, parts in groups]
        return And(per_word), Or(per_word)

    def parse(self, text: str) -> tuple[list[Query], set[str], list[str]]:
        """The queries to run in order, the terms to highlight, and any problems."""
        problems: list[str] = []
        if _SYNTAX.search(text):
            try:
                parser = MultifieldParser(list(TEXT_FIELDS), self.index.schema, fieldboosts=field_boosts(), group=OrGroup)
                query = parser.parse(text)
                if query is not NullQuery and "ErrorQuery" not in repr(query):
                    terms = {t for _, t in query.iter_all_terms() if isinstance(t, str)}
                    return [query], terms, problems
                problems.append("query syntax not understood; searched for its words instead")
            except Exception as exc:  # Whoosh raises assorted errors on malformed syntax
                problems.append(f"query syntax not understood ({type(exc).__name__}); searched for its words instead")
            text = re.sub(r'[":()*]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b', " ", text)
        groups = query_groups(text, self.extra_words)
        if len(groups) > MAX_TERMS:
            problems.append(f"query has {len(groups)} distinct words; the first {MAX_TERMS} were used")
            groups = groups[:MAX_TERMS]
        if not groups:
            return [], set(), problems
        all_terms, any_term = self._plain(groups)
        terms = {word for word, _ in groups} | {p for _, parts in groups for p in parts}
        return ([all_terms, any_term] if len(groups) > 1 else [any_term]), terms, problems

    def search(self, text: str, allowed: set[str] | None, limit: int,
               exclude: set[str] = frozenset()) -> tuple[list[tuple[str, float]], set[str], list[str]]:
        """Ranked (id, score) pairs for ``text`` among ``allowed`` ids (None: all)."""
        queries, terms, problems = self.parse(text)
        if allowed is not None:
            allowed_docs = {self.docnum[i] for i in allowed if i in self.docnum and i not in exclude}
            if not allowed_docs:
                return [], terms, problems
        else:
            allowed_docs = None
        hits: list[tuple[str, float]] = []
        seen: set[str] = set(exclude)
        for query in queries:
            wanted = limit - len(hits)
            if wanted <= 0:
                break
            results = self.searcher.search(query, limit=wanted + len(seen), filter=allowed_docs)
            for hit in results:
                doc_id = hit["id"]
                if doc_id not in seen:
                    seen.add(doc_id)
                    hits.append((doc_id, float(hit.score)))
                    if len(hits) >= limit:
                        break
        return hits, terms, problems
