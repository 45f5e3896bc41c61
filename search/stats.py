"""What an index holds and whether it is sound: ``GoalSearch.stats`` and ``check_index`` (both need only an ``IndexReader``)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from ..indexer import GoalsearchError, load_reports
from ..indexer.models import DEFAULT_MODEL, model_problems
from ..indexer.storage import generations as store
from ..indexer.storage import integrity
from ..indexer.storage.family_store import check_families
from ..indexer.storage.fulltext import FULLTEXT
from ..indexer.storage.terms import KEYS, TERMS
from ..indexer.storage.vectors import KEYS as VECTOR_KEYS
from ..indexer.storage.vectors import VECTORS

from .reader import IndexReader


@dataclass
class Stats:
    """What an index holds and what went into it."""

    index_dir: str
    generation: str
    records: int
    total_amount: float
    by_city: dict[str, int]
    by_year: dict[str, int]
    by_department: dict[str, int]
    by_category: dict[str, int]
    amount_by_category: dict[str, float]
    files: list[dict]
    rows_read: int
    rows_skipped: int
    rows_merged: int
    model: dict
    size_bytes: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


def index_stats(index) -> Stats:
    """Records by city, year, department and category; files and rows accounted for; sizes.

    Counted and summed by SQL in the record store: nothing is loaded record by record.
    """
    reports = load_reports(index.generation, index.manifest)
    records = index.store
    sizes: dict[str, int] = Counter()
    for path in index.generation.rglob("*"):
        if path.is_file():
            part = "fulltext" if FULLTEXT in path.parts else ("vectors" if "vector" in path.name else "records")
            sizes[part] += path.stat().st_size
    files = [{"source": r.source, "status": "failed" if r.error else "kept" if r.stale else "indexed", "error": r.error or r.stale,
              "rows_read": r.rows_read, "records": r.records, "skipped": r.skipped, "merged": r.merged,
              "reconciled": r.reconciled} for r in reports]
    by_category = records.counts("category")
    return Stats(
        index_dir=str(index.index_dir), generation=index.generation.name, records=len(records),
        total_amount=round(records.total_amount(), 2),
        by_city={(city or "?"): count for city, count, _ in records.counts("city")},
        by_year=dict(sorted((str(year), count) for year, count, _ in records.counts("year"))),
        by_department={department: count for department, count, _ in records.counts("department")},
        by_category={category: count for category, count, _ in by_category},
        amount_by_category={category: round(total, 2) for category, _, total in sorted(by_category, key=lambda c: (-c[2], c[0]))},
        files=files, rows_read=sum(r.rows_read for r in reports),
        rows_skipped=sum(r.skipped for r in reports), rows_merged=sum(r.merged for r in reports),
        model=index.manifest.get("model", {}), size_bytes=dict(sizes),
    )


def check_index(index_dir: str | Path = "index", model: str | None = None) -> list[str]:
    """Problems with the index at ``index_dir`` (empty when it is sound); never raises for a damaged index.

    Verifies every file against the manifest checksums (each mismatch is listed), that every file
    can be read, that the full-text index, the term matrices, the vectors and the record store
    hold the same ids, and that the vectors were built with ``model`` (default: the index's own
    model, which must still load).
    """
    fix = "fix: `goalsearch index --rebuild PATH`"
    index_dir = Path(index_dir)
    try:
        generation = store.current_generation(index_dir)
        if generation is None:
            return [f"no index at {index_dir}; create one with `goalsearch index PATH`"]
        manifest = store.read_manifest(generation, verify=False)
    except GoalsearchError as exc:
        return [str(exc)]
    problems = [f"index {index_dir}: {problem}; run `goalsearch index --rebuild`" for problem in store.mismatches(generation, manifest)]
    try:
        index = IndexReader.open(index_dir)
    except GoalsearchError as exc:
        return problems + [str(exc)]
    with index:
        record_ids = set(index.ids)
        if len(record_ids) != len(index.store):
            problems.append(f"record store has duplicate ids; {fix}")
        problems += index.store.integrity_problems()

        def side(name: str, ids) -> None:
            if ids is not None and (set(ids) != record_ids or len(ids) != len(index.store)):
                problems.append(f"{name} and record store disagree on {len(set(ids) ^ record_ids)} ids; {fix}")
            elif isinstance(ids, list) and ids != index.ids:
                problems.append(f"{name} holds the records in another order than the record store; {fix}")

        for name, read in (("full-text index", lambda: index.bm25.ids()),
                           ("term matrices", lambda: _row_ids(index, f"{TERMS}/{KEYS}")),
                           ("vector index", lambda: _row_ids(index, VECTOR_KEYS)),
                           ("records", lambda: [r.id for r in index.records]),
                           ("vectors", lambda: _check_every_vector(index)),
                           ("term weights", lambda: _check_term_weights(index)),
                           ("stats", lambda: (index_stats(index), None)[1])):
            try:
                side(name, read())
            except GoalsearchError as exc:
                problems.append(str(exc))
        problems += _family_problems(index, fix)
        wanted = model or index.manifest.get("model", {}).get("requested")
        if wanted != index.manifest.get("model", {}).get("requested"):
            problems.append(f"vectors were built with model {index.manifest.get('model', {}).get('requested')!r} "
                            f"but {wanted!r} is configured; fix: `goalsearch index --rebuild PATH --model {wanted}`")
        else:
            try:
                index._embedder()
            except GoalsearchError as exc:
                problems.append(str(exc))
            if wanted in (DEFAULT_MODEL, "", None):  # the converted files it runs on, hashed
                problems += model_problems(index.manifest.get("model", {}).get("backend"))
    return list(dict.fromkeys(problems))


def _check_every_vector(index) -> None:
    """Every row of the vectors must be unit vectors (searching checks a sample and the rows it returns)."""
    vectors = index.vectors.vectors
    for start in range(0, len(vectors), 8192):
        integrity.check_vectors(index.generation, index.manifest, VECTORS, vectors[start:start + 8192], len(index.ids))


def _check_term_weights(index) -> None:
    """Every summed weight a positive number and every row in range, every count finite: searching
    checks types and shapes at open, and only the columns a query reads."""
    lexical = index.bm25.lexical
    if lexical is None:  # an index built before the term matrices
        return
    for kind, postings in (("words", lexical.words), ("grams", lexical.grams)):
        with integrity.reading(index.generation, f"{TERMS}/{kind}.weights.npy"):
            integrity.check_postings(index.generation, f"{TERMS}/{kind}.*.npy", postings, len(index.ids))
    for _ in lexical.by_field.values():  # reads and checks each field's counts
        pass


def _row_ids(index, name: str) -> list[str] | None:
    """The record id of each row of a per-row keys file (term matrices, vectors); None when it has none."""
    if not (index.generation / name).exists():
        return None
    keys = integrity.load_json(index.generation, index.manifest, name)
    with integrity.reading(index.generation, name):
        return [key["id"] for key in keys]


def _family_problems(index, fix: str) -> list[str]:
    """The families file must hold every record exactly once, as many families as the manifest counts."""
    try:
        families = index.family_index.families
    except GoalsearchError as exc:
        return [str(exc)]
    problems = [f"families: {problem}; {fix}" for problem in check_families(families, index.ids)]
    counted = index.manifest.get("counts", {}).get("families")
    found = sum(1 for f in families if len(f.members) > 1)
    if counted is not None and counted != found:
        problems.append(f"families: {found} families of two or more, the manifest says {counted}; {fix}")
    return problems
