"""The BM25 side: jieba tokens ranked with field boosts, filters applied before ranking.

A plain query is cut into word groups; records matching every group rank first,
then records matching some, so partial matches still come back without outranking
complete ones. Plain queries are ranked over the term matrices (``lexical``), which
stays fast at 100k records; Whoosh ranks them the same way (all words, then any) for
indexes built before those matrices existed. A query with Whoosh syntax
(``name:运维 AND year:2026``, ``"信息化运维"``) goes to Whoosh's parser; if that fails,
the words are searched plainly and the problem is reported. Parsed queries that only
combine words and keyword or numeric fields are scored over the matrices too
(``syntax``); phrases and prefixes are scored by Whoosh.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import And, Or, Query, Term
from whoosh.scoring import BM25F

from ...indexer.analysis.ngrams import char_grams
from ...indexer.storage.fulltext import TEXT_FIELDS, open_fulltext
from ...indexer.storage.term_weights import field_boosts

from ..feedback import name_key
from .matrices import LexicalSide, NameRule
from .plain import PlainQuery, plain_query, query_settings
from .record_columns import RecordColumns
from .rewrites import city_labels, exclusions_apply, wanted_words, without_unreadable
from .synonyms import Expansion, Synonyms, load_synonyms
from .syntax import Scored, score_query

if TYPE_CHECKING:
    from ...indexer.storage.record_store import RecordStore

_SYNTAX = re.compile(r'"|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b|\b[a-z_]+:|[()*]')
_LATIN = re.compile(r"[0-9A-Za-z]+")
# In a paste, only our own field names and the operators are syntax: "a:" or "http:" are text.
_PASTE_CONSTRAINT = re.compile(r"\b(?:AND|NOT|ANDNOT)\b|\b(?:name|aliases|goal|unit|department|indicators|actual|city|category|"
                               r"section|kind|year|amount):")
_SYNTAX_MARKS = re.compile(r'[":()*]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b')  # dropped when syntax falls back to words
_CONSTRAINT = re.compile(r'\b(?:AND|NOT|ANDNOT)\b|\b[a-z_]+:')  # syntax that says which projects qualify


def _same_idf(term: str) -> float:
    return 1.0


def is_syntax(text: str) -> bool:
    """Is ``text`` Whoosh query syntax? Quotes, brackets and colons in a pasted passage
    (``paste_chars`` and longer) are punctuation unless it also has a field, AND or NOT."""
    if not _SYNTAX.search(text):
        return False
    return len(text) < query_settings()["paste_chars"] or bool(_PASTE_CONSTRAINT.search(text))


@dataclass
class ParsedQuery:
    """A query as the BM25 side understood it."""

    query: Query | None  # Whoosh query, for text with syntax
    plain: PlainQuery | None  # weighted words, n-grams and synonyms otherwise
    terms: set[str]  # what to highlight
    problems: list[str]

    @property
    def groups(self) -> list[tuple[str, tuple[str, ...]]]:
        return self.plain.groups if self.plain is not None else []


class BM25Side:
    """The term matrices and, opened on first need, a warm Whoosh searcher of one generation.

    Whoosh unpickles its table of contents, so it is opened only after ``verify`` has checked
    its files against the manifest, and only when a query needs it (syntax, or an index without
    term matrices): plain searches never read a pickle and skip hashing the full-text files.
    """

    def __init__(self, generation: Path, fulltext: Path, extra_words: tuple[str, ...],
                 verify: Callable[[], object] = lambda: None, records: RecordStore | None = None,
                 synonyms: Synonyms | None = None,
                 open_terms: Callable[[Callable[[list[str]], LexicalSide]], LexicalSide] | None = None) -> None:
        """``records``: the generation's record store (row order, and the keyword columns of syntax queries);
        ``open_terms(make)`` opens the term matrices with ``make(ids)`` after checking their files."""
        self.generation = generation
        self.synonyms = synonyms if synonyms is not None else load_synonyms()
        self.records = records
        self.fulltext = fulltext
        self.extra_words = extra_words
        self._verify = verify
        self._open_terms = open_terms or (lambda make: make(records.ids))  # the caller checks the matrices
        self._index = None
        self._searcher = None
        self._docnum: dict[str, int] | None = None
        self._lexical: LexicalSide | None = None
        self._columns: RecordColumns | None = None
        self._last_parse: tuple[str, ParsedQuery] | None = None
        self.holding: set[str] = set()  # ids of the last search whose name holds its short query whole

    @property
    def searcher(self):
        """Whoosh's searcher, opened (after the checksum check) on first use."""
        if self._searcher is None:
            self._verify()
            self._index = open_fulltext(self.fulltext)
            self._searcher = self._index.searcher(weighting=BM25F())
        return self._searcher

    @property
    def docnum(self) -> dict[str, int]:
        """Whoosh document number of each record id."""
        if self._docnum is None:
            self._docnum = {fields["id"]: num for num, fields in self.searcher.iter_docs()}
        return self._docnum

    @property
    def lexical(self) -> LexicalSide | None:
        """The term matrices, loaded on the first plain query; None for indexes without them."""
        if self._lexical is None and LexicalSide.available(self.generation):
            row = self.records.row if self.records is not None else None  # the positions of the ids given
            self._lexical = self._open_terms(lambda ids: LexicalSide(self.generation, field_boosts(), ids, row))
        return self._lexical

    def on_matrices(self, query: Query) -> Scored | None:
        """Score and match flags of a parsed query over the term matrices; None if it needs Whoosh."""
        if self.lexical is None:
            return None
        if self._columns is None and self.records is not None and len(self.records):
            self._columns = RecordColumns(self.records, self.lexical.ids)
        return score_query(query, self.lexical, self._columns)

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._index.close()

    def ids(self) -> set[str]:
        return set(self.docnum)

    def _plain(self, groups: list[tuple[str, tuple[str, ...]]]) -> list[Query]:
        """Whoosh queries for plain word groups: all of them, then any (one query for one group)."""
        boosts = field_boosts()

        fields = [f for f in TEXT_FIELDS if f in self.searcher.schema]  # an older index has fewer

        def anywhere(term: str) -> Query:
            return Or([Term(f, term, boost=boosts.get(f, 1.0)) for f in fields])

        per_word = [Or([anywhere(word), And([anywhere(p) for p in parts])]) if parts else anywhere(word)
                    for word, parts in groups]
        return [And(per_word), Or(per_word)] if len(per_word) > 1 else [Or(per_word)]

    def parse(self, text: str) -> ParsedQuery:
        """What to ask: a Whoosh query for text with syntax, else plain word groups.

        The last answer is kept: a hybrid search asks ``meaning`` and then ``search`` of one text.
        """
        if self._last_parse is None or self._last_parse[0] != text:
            self._last_parse = (text, self._parse(text))
        return self._last_parse[1]

    def _parse(self, text: str) -> ParsedQuery:
        problems: list[str] = []
        if is_syntax(text):
            schema = self.searcher.schema  # outside the try: a corrupt index must not pass for bad syntax
            unknown = sorted({name for name in re.findall(r"\b([a-z_]+):", text) if name not in schema})
            if unknown:
                known = ", ".join(name for name in schema.names() if name not in ("id", "source"))
                problems.append(f"no field {', '.join(unknown)} (fields: {known}); searched as words")
            try:
                fields = [f for f in TEXT_FIELDS if f in schema]  # an index built before a field existed lacks it
                parser = MultifieldParser(fields, schema, fieldboosts=field_boosts(), group=OrGroup)
                query, dropped = without_unreadable(parser.parse(text))
                if query is not None and "ErrorQuery" not in repr(query):
                    if dropped:
                        problems.append("part of the query syntax was not understood (a field, number or bracket?) "
                                        "and was left out")
                    query = city_labels(exclusions_apply(query))
                    terms = {t for _, t in query.iter_all_terms() if isinstance(t, str)}
                    return ParsedQuery(query, None, terms, problems)
                problems.append("query syntax not understood; searched for its words instead")
            except Exception as exc:  # Whoosh raises assorted errors on malformed syntax
                problems.append(f"query syntax not understood ({type(exc).__name__}); searched for its words instead")
            text = _SYNTAX_MARKS.sub(" ", text)
        lexical = self.lexical
        if lexical is None:  # an index without term matrices: every word counts alike
            word_idf = gram_idf = _same_idf
        else:
            word_idf, gram_idf = lexical.idf, partial(lexical.idf, grams=True)
        plain = plain_query(text, self.extra_words, self.synonyms, word_idf, gram_idf)
        return ParsedQuery(None, plain, plain.words, problems)

    def _name_rule(self, text: str) -> NameRule | None:
        """For a short plain query (``name_first_max_chars``): the rows whose name may hold the whole query
        (every n-gram of it in the name n-grams), and a check of some rows' names (NFKC, case and spaces
        ignored) that records the ids found in ``holding``; None for other queries."""
        key = name_key(text)
        if len(key) > query_settings()["name_first_max_chars"] or self.lexical is None or self.records is None:
            return None
        rows = self.lexical.name_rows(char_grams(key))
        if rows is None or not len(rows):
            return None
        maybe = np.zeros(len(self.lexical.ids), dtype=bool)
        maybe[rows] = True

        def holds(some: np.ndarray) -> np.ndarray:
            names = self.records.names_at(some)
            held = np.array([key in name_key(names.get(int(row), "")) for row in some], dtype=bool)
            self.holding.update(self.lexical.ids[int(row)] for row in some[held])
            return held

        return maybe, holds

    def expansions(self, text: str) -> list[Expansion]:
        """The synonym expansions a plain query searched (none for syntax)."""
        parsed = self.parse(text)
        return parsed.plain.expansions if parsed.plain is not None else []

    def known_words(self, text: str) -> tuple[bool, list[str]] | None:
        """Does any term of a plain query occur in the index (itself, or through a synonym), and which
        of its Latin words and numbers occur nowhere (as the user spelled them); None for an index without
        matrices, and for syntax without a word of the text fields (``year:2024``, ``kind:budget``). Syntax
        that was not understood is searched as its words, so it is judged by them too (``year:abc``)."""
        if self.lexical is None:
            return None
        parsed = self.parse(text)
        plain = parsed.plain
        if plain is None:  # syntax Whoosh read: judged by its words as a whole (``OR OR OR`` is the word "or");
            # only the full-text fields' words: kind:budget or category:运维 name a filter, not a word
            words = [term for field, term in parsed.query.iter_all_terms() if field in TEXT_FIELDS and isinstance(term, str)]
            if not words:
                return None
            spelled = {match.group(0).lower(): match.group(0) for match in _LATIN.finditer(text)}
            missing = [spelled.get(word, word) for word in dict.fromkeys(words)
                       if _LATIN.fullmatch(word) and not self.lexical.knows(word)]
            return any(self.lexical.knows(word) for word in words), missing  # 运维 AND xyzzy: say why nothing
        if is_syntax(text):
            text = _SYNTAX_MARKS.sub(" ", text)
        found = any(self.lexical.knows(gram) for gram in plain.grams) or \
            any(self.lexical.knows(word) for word in plain.words)
        if len(text) >= query_settings()["paste_chars"]:
            return found, []  # a paste's stray numbers and letters (8G, a, b) are no news
        carried = {e.term.lower() for e in plain.expansions}
        missing = [word for word in dict.fromkeys(_LATIN.findall(text))
                   if not self.lexical.knows(word.lower()) and word.lower() not in carried]
        return found, missing

    def meaning(self, text: str) -> str | None:
        """For a query whose syntax says which projects qualify (a field, AND, NOT): the words
        to rank them by meaning ('' when it has none); None for other queries.

        Words, OR and phrases only guide the ranking, so pasted text with quotes or brackets
        is not narrowed to what BM25 finds.
        """
        if not _CONSTRAINT.search(text):
            return None
        parsed = self.parse(text)
        if parsed.query is None:
            return None
        return " ".join(wanted_words(parsed.query, TEXT_FIELDS))

    def search(self, text: str, allowed: np.ndarray | None, limit: int, exclude: set[str] = frozenset(),
               whoosh: bool = False) -> tuple[list[tuple[str, float]], set[str], list[str]]:
        """Ranked (id, score) pairs for ``text`` among ``allowed`` rows (a mask over the record store's rows; None: all).

        ``whoosh=True`` ranks plain queries with Whoosh too: the reference the term
        matrices are tested against.
        """
        parsed = self.parse(text)
        self.holding = set()
        if parsed.query is None and not parsed.groups and not (parsed.plain and parsed.plain.grams):
            return [], parsed.terms, parsed.problems
        if not whoosh and self.lexical is not None:
            mask = self.lexical.mask(allowed, set(exclude))
            if parsed.query is None:
                return self.lexical.rank(parsed.plain, mask, limit, self._name_rule(text)), parsed.terms, parsed.problems
            scored = self.on_matrices(parsed.query)
            if scored is not None:
                return self.lexical.top(scored[0], scored[1], mask, limit), parsed.terms, parsed.problems
        if parsed.query is None and not parsed.groups:
            return [], parsed.terms, parsed.problems
        queries = [parsed.query] if parsed.query is not None else self._plain(parsed.groups)
        return self._whoosh(queries, allowed, limit, exclude), parsed.terms, parsed.problems

    def _whoosh(self, queries: list[Query], allowed: np.ndarray | None, limit: int,
                exclude: set[str]) -> list[tuple[str, float]]:
        """Ask Whoosh each query in turn until ``limit`` distinct hits are found."""
        if allowed is not None:
            ids = (self.records.ids[row] for row in np.flatnonzero(allowed))
            allowed_docs = {self.docnum[i] for i in ids if i in self.docnum and i not in exclude}
            if not allowed_docs:
                return []
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
        return hits
