"""The engines a user would pick instead of goalsearch, fed what goalsearch searches (issue #32).

Every engine gets the same input: the jieba tokens of the seven full-text fields (``TEXT_FIELDS``:
name, aliases, goal, unit, department, indicators, actual), made by goalsearch's own analyzer in
index mode and joined by spaces, so each engine's whitespace tokenizer sees exactly goalsearch's
words; a query is goalsearch's jieba words of its text; and the vectors are the index's own rows
(one normalized vector per view, side by side) with the query vector repeated once per view.

- **bm25s** (brute-force BM25 in numpy/scipy): one document of all seven fields' tokens, no boosts.
- **tantivy** (tantivy-py, Lucene-class BM25 with block-max WAND): seven fields with goalsearch's
  field boosts (``data/fields.json``); a query is a should-clause per field and word.
- **LanceDB**: a table of the tokens and the vectors; its native full-text index per field, queried
  with the same boosts; an IVF-PQ vector index (dot product, ``refine_factor`` 2 re-scores with the
  stored vectors as goalsearch re-scores its IVF candidates); its hybrid query fuses both with RRF.
- **numpy**: exact dot products over the vectors in RAM.

goalsearch's n-gram fields and its query weighting (key terms, synonyms) have no counterpart here:
the engines search words only, as a user indexing these fields with them would.

Requires the ``bench`` extra (``pip install -e '.[bench]'``): not a goalsearch dependency.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from goalsearch.indexer.analysis.analyzer import chinese_analyzer
from goalsearch.indexer.storage.fulltext import TEXT_FIELDS, field_texts
from goalsearch.indexer.storage.term_weights import field_boosts
from goalsearch.search.lexical.plain import query_words

ENGINES = ("bm25s", "tantivy", "lancedb", "numpy")
MODULES = {"bm25s": "bm25s", "tantivy": "tantivy", "lancedb": "lancedb", "numpy": "numpy"}


def installed_engines() -> tuple[str, ...]:
    """The engines whose package is installed (tantivy and LanceDB come with ``pip install -e '.[bench]'``): the
    default, so that the benchmark runs (and its smoke test passes) without the bench extra."""
    import importlib.util

    return tuple(engine for engine in ENGINES if importlib.util.find_spec(MODULES[engine]) is not None)


def field_tokens(records, extra_words: tuple[str, ...]) -> list[dict[str, str]]:
    """Per record, each full-text field's jieba tokens (index mode, as goalsearch indexes them), space-joined."""
    analyzer = chinese_analyzer(extra_words)
    out = []
    for record in records:
        out.append({field: " ".join(t.text for t in analyzer(text, mode="index") if t.text.strip())
                    for field, text in field_texts(record).items()})
    return out


def per_view(vector: np.ndarray, width: int) -> np.ndarray:
    """The query vector repeated once per view, as the vector side scores rows (indexer/storage/vectors.py)."""
    return np.tile(vector, width // len(vector))


class Baselines:
    """bm25s, tantivy, LanceDB and numpy over one open goalsearch index; ``build_s`` says what each took to index."""

    def __init__(self, index, engines: tuple[str, ...] = ENGINES) -> None:
        self.ids = index.ids
        self.extra_words = index.extra_words
        self.boosts = {f: b for f, b in field_boosts().items() if f in TEXT_FIELDS}
        self.build_s: dict[str, float] = {}
        self.size_mb: dict[str, float] = {}
        started = time.perf_counter()
        docs = field_tokens(index.records, index.extra_words)
        self.tokenize_s = round(time.perf_counter() - started, 2)
        vectors = np.ascontiguousarray(np.asarray(index.vectors.vectors, dtype=np.float32))
        self.width = vectors.shape[1]
        self._tmp = tempfile.TemporaryDirectory()
        for engine in engines:
            started = time.perf_counter()
            getattr(self, f"_build_{engine}")(docs, vectors)
            self.build_s[engine] = round(time.perf_counter() - started, 2)
        for engine in ("tantivy", "lancedb"):
            folder = Path(self._tmp.name) / engine
            if folder.exists():
                self.size_mb[engine] = round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 2)

    def close(self) -> None:
        self._tmp.cleanup()

    def words(self, query: str) -> list[str]:
        """goalsearch's jieba words of a query, each once, in order (what every engine is asked)."""
        return list(dict.fromkeys(w for w in query_words(query, self.extra_words) if w.strip()))

    # -- building ---------------------------------------------------------------------
    def _build_bm25s(self, docs, vectors) -> None:
        import bm25s

        self._bm25s = bm25s.BM25()
        self._bm25s.index([" ".join(d.values()).split() for d in docs], show_progress=False)

    def _build_tantivy(self, docs, vectors) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("row", stored=True, fast=True)
        for field in TEXT_FIELDS:
            builder.add_text_field(field, tokenizer_name="whitespace", index_option="freq")
        self._schema = builder.build()
        folder = Path(self._tmp.name) / "tantivy"
        folder.mkdir()
        index = tantivy.Index(self._schema, path=str(folder))
        writer = index.writer(heap_size=256_000_000)
        for row, doc in enumerate(docs):
            writer.add_document(tantivy.Document(row=row, **doc))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._tantivy = index.searcher()
        self._tantivy_module = tantivy

    def _build_lancedb(self, docs, vectors) -> None:
        import lancedb
        import pyarrow as pa

        db = lancedb.connect(str(Path(self._tmp.name) / "lancedb"))
        columns = {"row": pa.array(np.arange(len(docs), dtype=np.int64))}
        columns.update({f: pa.array([d[f] for d in docs], type=pa.string()) for f in TEXT_FIELDS})
        columns["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])
        table = db.create_table("records", pa.table(columns))
        for field in TEXT_FIELDS:
            table.create_fts_index(field, base_tokenizer="whitespace", lower_case=False, stem=False,
                                   remove_stop_words=False, ascii_folding=False, max_token_length=None)
        partitions = max(1, int(np.sqrt(len(docs))))
        if len(docs) >= 256 * 4:  # PQ trains 256 centroids per sub-vector
            table.create_index(metric="dot", num_partitions=partitions, num_sub_vectors=self.width // 8,
                               index_type="IVF_PQ")
        self._lance = table

    def _build_numpy(self, docs, vectors) -> None:
        self._matrix = vectors

    # -- searching: row ids, best first ----------------------------------------------------
    def bm25s(self, query: str, k: int) -> list[str]:
        words = self.words(query)
        if not words:
            return []
        try:
            found, scores = self._bm25s.retrieve([words], k=min(k, len(self.ids)), show_progress=False)
        except (ValueError, KeyError):
            return []
        return [self.ids[j] for j, s in zip(found[0], scores[0]) if s > 0]

    def tantivy(self, query: str, k: int) -> list[str]:
        tantivy = self._tantivy_module
        clauses = [(tantivy.Occur.Should, tantivy.Query.boost_query(
                    tantivy.Query.term_query(self._schema, field, word, index_option="freq"), boost))
                   for word in self.words(query) for field, boost in self.boosts.items()]
        if not clauses:
            return []
        result = self._tantivy.search(tantivy.Query.boolean_query(clauses), limit=k, count=False)
        return [self.ids[self._tantivy.doc(address)["row"][0]] for _, address in result.hits]

    def _lance_text(self, query: str):
        from lancedb.query import MultiMatchQuery

        words = " ".join(self.words(query))
        return MultiMatchQuery(words, list(self.boosts), boosts=list(self.boosts.values())) if words else None

    def lance_fts(self, query: str, k: int) -> list[str]:
        text = self._lance_text(query)
        if text is None:
            return []
        rows = self._lance.search(text, query_type="fts").select(["row", "_score"]).limit(k).to_arrow()["row"]
        return [self.ids[r] for r in rows.to_pylist()]

    def lance_vector(self, vector: np.ndarray, k: int) -> list[str]:
        search = self._lance.search(per_view(vector, self.width), query_type="vector").metric("dot")
        rows = search.refine_factor(2).select(["row", "_distance"]).limit(k).to_arrow()["row"]
        return [self.ids[r] for r in rows.to_pylist()]

    def lance_hybrid(self, query: str, vector: np.ndarray, k: int) -> list[str]:
        text = self._lance_text(query)
        if text is None:
            return self.lance_vector(vector, k)
        search = (self._lance.search(query_type="hybrid").vector(per_view(vector, self.width)).text(text)
                  .metric("dot").refine_factor(2))
        rows = search.select(["row"]).limit(k).to_arrow()["row"]
        return [self.ids[r] for r in rows.to_pylist()]

    def numpy(self, vector: np.ndarray, k: int) -> list[str]:
        scores = self._matrix @ per_view(vector, self.width)
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return [self.ids[j] for j in top[np.argsort(-scores[top])]]


def overlap(found: list[list[str]], reference: list[list[str]], k: int = 10) -> float:
    """Mean share of the reference's top ``k`` that the other engine also returns in its top ``k``
    (queries where the reference found nothing are skipped)."""
    shares = [len(set(f[:k]) & set(r[:k])) / min(k, len(r)) for f, r in zip(found, reference) if r]
    return round(float(np.mean(shares)), 3) if shares else 0.0
