"""The BM25 weights summed over fields at index time rank exactly as summing them per query would."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from goalsearch.indexer.storage.term_weights import KINDS, WEIGHTS, field_boosts, read_summed, summed
from goalsearch.search import GoalSearch
from goalsearch.search.lexical.matrices import LexicalSide

QUERIES = ["社保卡制发", "信息化运维", "机房 供配电", "通过项目实施，保障系统稳定运行，提升服务效率和质量"]


def generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def _ids(index_dir: Path) -> list[str]:
    with GoalSearch.open(index_dir) as index:
        return index.ids


def dense(postings, n_rows: int) -> np.ndarray:
    """A kind's weights as a dense (records × terms) array, to compare sums exactly."""
    matrix = np.zeros((n_rows, len(postings.indptr) - 1), dtype=np.float64)
    for col in range(len(postings.indptr) - 1):
        rows, weights = postings.column(col)
        matrix[rows, col] = weights
    return matrix


def test_stored_sums_equal_the_boosted_sum_of_each_fields_weights(sample_index_dir):
    side = LexicalSide(generation(sample_index_dir), field_boosts(), _ids(sample_index_dir))
    stored = read_summed(side.folder, field_boosts())
    assert stored is not None, "a fresh index stores the summed weights"
    fields = side.by_field
    n_rows = len(side.ids)
    for kind, names in KINDS.items():
        expected = sum(dense(fields[name], n_rows) * field_boosts()[name] for name in names)
        assert np.allclose(dense(stored[kind], n_rows), expected, rtol=1e-5, atol=1e-6)
        largest_df = np.max([fields[name].df for name in names], axis=0)
        assert np.array_equal(stored[kind].df, largest_df)


def test_an_index_summed_with_other_boosts_is_summed_again_and_ranks_the_same(sample_index_dir, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(sample_index_dir, copy)
    weights = generation(copy) / "terms" / WEIGHTS
    made = json.loads(weights.read_text("utf-8"))
    made["boosts"]["name"] = made["boosts"]["name"] * 3
    weights.write_text(json.dumps(made), "utf-8")
    assert read_summed(weights.parent, field_boosts()) is None
    original, resummed = GoalSearch.open(sample_index_dir), GoalSearch.open(copy)
    try:
        for query in QUERIES:
            want = [(h.record.id, pytest.approx(h.score, rel=1e-5)) for h in original.search(query, mode="bm25")]
            assert [(h.record.id, h.score) for h in resummed.search(query, mode="bm25")] == want, query
    finally:
        original.close(), resummed.close()


def test_changed_boosts_change_the_ranking(sample_index_dir, monkeypatch):
    """The stored sums are used only with the boosts they were made with."""
    side = LexicalSide(generation(sample_index_dir), field_boosts(), _ids(sample_index_dir))
    monkeypatch.setitem(field_boosts(), "goal", 0.0)
    changed = LexicalSide(generation(sample_index_dir), field_boosts(), _ids(sample_index_dir))
    expected = summed(side.by_field, field_boosts(), len(side.ids), len(side.column))
    assert np.allclose(dense(changed.words, len(side.ids)), dense(expected["words"], len(side.ids)))
    assert not np.allclose(dense(changed.words, len(side.ids)), dense(side.words, len(side.ids)))


@pytest.mark.parametrize("chunk", [1, 7, 1 << 24])
def test_counts_aligned_a_few_columns_at_a_time_are_the_counts_aligned_at_once(chunk):
    """Aligning a field's counts with its kind's postings is done in chunks of columns (issue #32: one key
    array for all took 8 GB at a million records); any chunk gives the same array, and a missing pair None."""
    from scipy import sparse

    from goalsearch.indexer.storage.term_counts import aligned_counts

    rng = np.random.default_rng(3)
    kind = sparse.random(40, 30, density=0.3, format="csc", random_state=4, dtype=np.float32)
    kind.sort_indices()
    keep = rng.random(kind.nnz) < 0.6
    field = sparse.csc_matrix((rng.integers(1, 9, kind.nnz)[keep].astype(np.uint8),
                               kind.indices[keep], np.concatenate([[0], np.cumsum(
                                   [keep[a:b].sum() for a, b in zip(kind.indptr[:-1], kind.indptr[1:])])])),
                              shape=kind.shape)
    counts = aligned_counts(kind.indptr, kind.indices, field, 40, np.dtype(np.uint8), chunk=chunk)
    expected = np.zeros(kind.nnz, dtype=np.uint8)
    expected[keep] = field.data
    assert np.array_equal(counts, expected)
    stray = field.copy()
    stray.indices = stray.indices.copy()
    missing = np.setdiff1d(np.arange(40), kind.indices[kind.indptr[-2]:kind.indptr[-1]])[0]
    last = slice(stray.indptr[-2], stray.indptr[-1])
    assert stray.indptr[-1] > stray.indptr[-2]
    stray.indices[last.start] = missing
    stray.sort_indices()
    assert aligned_counts(kind.indptr, kind.indices, stray, 40, np.dtype(np.uint8), chunk=chunk) is None


@pytest.mark.parametrize("chunk", [1, 7, 1 << 22])
def test_bm25_weights_made_a_chunk_of_postings_at_a_time_are_the_whole_arrays_to_the_bit(chunk):
    """The weights are made in chunks so that a million records need no whole-length temporaries (issue #32);
    the reference is the formula over whole arrays, as written before."""
    from goalsearch.indexer.storage.term_weights import B, K1, bm25_weights

    rng = np.random.default_rng(3)
    n_records, n_terms, n_postings = 300, 40, 5000
    rows = rng.integers(0, n_records, n_postings).astype(np.int32)
    counts = rng.integers(1, 12, n_postings).astype(np.uint8)
    df = np.bincount(rng.integers(0, n_terms, n_postings), minlength=n_terms)
    indptr = np.concatenate([[0], np.cumsum(df)])

    tf = counts.astype(np.float32)
    lengths = np.bincount(rows, weights=tf, minlength=n_records)
    denominator = (lengths * (K1 * B / (lengths.sum() / n_records))).astype(np.float32)[rows]
    denominator += K1 * (1.0 - B)
    denominator += tf
    expected = np.repeat((np.log(n_records / (df + 1.0)) + 1.0).astype(np.float32), df) * tf
    expected *= K1 + 1.0
    expected /= denominator
    made = bm25_weights(indptr, rows, counts, n_records, chunk=chunk)
    assert made.dtype == np.float32 and np.array_equal(made.view(np.uint32), expected.view(np.uint32))


def test_summing_in_place_gives_the_sums_of_copies_and_scales_the_fields_given():
    """The build sums with ``scale_in_place`` (issue #32: no 1.4 GB copy of the largest field at 1M records)."""
    from goalsearch.indexer.storage.term_weights import Postings

    rng = np.random.default_rng(5)

    def field() -> Postings:
        df = rng.integers(0, 4, 12)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        rows = np.concatenate([np.sort(rng.choice(30, d, replace=False)) for d in df]).astype(np.int32)
        return Postings(indptr, rows, rng.random(len(rows), dtype=np.float32), df.astype(np.int32))

    fields = {name: field() for name in KINDS["words"][:3]}
    boosts = {name: 1.5 + i for i, name in enumerate(fields)}
    originals = {name: f.weights.copy() for name, f in fields.items()}
    copied = summed(fields, boosts, 30, 12, ("words",))["words"]
    assert all(np.array_equal(f.weights, originals[name]) for name, f in fields.items())
    in_place = summed(fields, boosts, 30, 12, ("words",), scale_in_place=True)["words"]
    for name, f in fields.items():
        assert np.array_equal(f.weights, originals[name] * np.float32(boosts[name]))
    for part in ("indptr", "rows", "weights", "df"):
        assert np.array_equal(getattr(copied, part), getattr(in_place, part))
