"""The record store and the memory-mapped arrays: same answers as the files they replaced.

``tests/data/dev_rankings.json`` holds the rankings of every dev-set query in every mode, alone
and under filters, as the index answered them before records moved to SQLite and the arrays to
memory maps (``tests/dev_rankings.py`` writes it).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dev_rankings import dev_queries, rankings

ROOT = Path(__file__).resolve().parent.parent
TIE = 2e-3  # int8 document vectors move by up to ~1e-3 with their batch mates (tests embed in other batches)
# Fused scores mix min–max normalised cosines: a 1e-3 move of a cosine over a candidate range of ~0.1 moves the
# fused score by up to ~1e-2 (seen: the same ids, fused scores 0.004–0.0098 apart, after numpy/onnxruntime updates).
FUSED_TIE = 1e-2


def _same_ranking(expected: list, found: list, tie: float = TIE) -> bool:
    """The same scores position by position (within ``tie``), and the same ids except where a score ties
    with another hit's or is the last one shown (a tie the cut-off hides)."""
    if len(expected) != len(found):
        return False
    for at, ((want_id, want_score), (got_id, got_score)) in enumerate(zip(expected, found)):
        if abs(want_score - got_score) > tie:
            return False
        tied = any(abs(score - want_score) <= tie for other, (_, score) in enumerate(expected) if other != at)
        if want_id != got_id and not tied and at != len(expected) - 1:
            return False
    return True


@pytest.fixture(scope="module")
def answered(sample_index):
    return rankings(sample_index, dev_queries())


def test_dev_set_rankings_unchanged(answered):
    expected = json.loads((ROOT / "tests" / "data" / "dev_rankings.json").read_text("utf-8"))
    assert answered.keys() == expected.keys()
    exact = [key for key in expected if key.split("|")[0] in ("bm25", "list")]
    assert [key for key in exact if answered[key] != expected[key]] == []
    assert [key for key in expected
            if not _same_ranking(expected[key], answered[key], FUSED_TIE if key.startswith("hybrid|") else TIE)] == []


# -- the store answers filters and stats as the records do --------------------------------
def _old_stats(records) -> dict:
    """What ``stats`` counted when it read every record (before the SQL store)."""
    from collections import Counter

    from goalsearch.indexer import city_label

    amounts: Counter = Counter()
    for r in records:
        amounts[r.category] += r.amount or 0.0
    return {"records": len(records), "total_amount": round(sum(r.amount or 0.0 for r in records), 2),
            "by_city": dict(Counter(city_label(r.city) or "?" for r in records)),
            "by_year": dict(Counter(str(r.year) for r in records)),
            "by_department": dict(Counter(r.department for r in records)),
            "by_category": dict(Counter(r.category for r in records)),
            "amount_by_category": {k: round(v, 2) for k, v in amounts.items()}}


def test_stats_are_the_records_counted(sample_index):
    stats = sample_index.stats().to_dict()
    assert {key: stats[key] for key in _old_stats([])} == _old_stats(sample_index.records)
    assert list(stats["by_year"]) == sorted(stats["by_year"])
    assert list(stats["by_city"].values()) == sorted(stats["by_city"].values(), reverse=True)


def _filter_values(records):
    from hypothesis import strategies as st

    from goalsearch.indexer import city_label

    def some(values):
        return st.lists(st.sampled_from(sorted(set(values))), max_size=2)

    return st.fixed_dictionaries({
        "city": some([city_label(r.city) for r in records if r.city] + ["广州市"]),
        "years": st.tuples(st.none() | st.integers(2019, 2027), st.none() | st.integers(2019, 2027)).map(
            lambda y: tuple(sorted(y, key=lambda v: (v is None, v))) if None not in y else y),
        "department": st.none() | st.sampled_from(sorted({r.department[:4] for r in records}) + ["人力"]),
        "unit": st.none() | st.sampled_from(sorted({r.unit[-4:] for r in records if r.unit})),
        "category": some([r.category for r in records]),
        "min_amount": st.none() | st.sampled_from([0.0, 10.0, 100.0, 1339.99]),
        "max_amount": st.none() | st.sampled_from([50.0, 500.0, 1339.99, 100000.0]),
        "section": some([s for r in records for s in r.sections]),
    })


def test_filters_on_the_store_columns_match_the_records(sample_index):
    """Every combination of filters allows exactly the records ``Filters.matches`` accepts."""
    from hypothesis import HealthCheck, given, settings

    from goalsearch.search.filters import Filters

    records = sample_index.records

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_filter_values(records))
    def check(values):
        low, high = values.pop("years")
        if low is not None and high is not None and low > high:
            low, high = high, low
        if values["min_amount"] is not None and values["max_amount"] is not None and values["min_amount"] > values["max_amount"]:
            values["max_amount"] = values["min_amount"]
        filters = Filters(years=(low, high), **values)
        assert list(filters.mask(sample_index.store)) == [filters.matches(r) for r in records]

    check()


def test_a_filtered_search_returns_only_what_the_filter_allows(sample_index):
    from goalsearch.search.filters import Filters

    hits = sample_index.search("系统运维", city=["深圳", "江门"], years=(2021, 2023), limit=50)
    wanted = Filters(city=["深圳", "江门"], years=(2021, 2023))
    assert hits and all(wanted.matches(h.record) for h in hits)
    assert {h.record.id for h in sample_index.search("", city=["深圳", "江门"], years=(2021, 2023), limit=500)} == \
        {r.id for r in sample_index.records if wanted.matches(r)}


# -- read, not loaded ------------------------------------------------------------------------
def test_searching_reads_only_the_hits_records(sample_index_dir, monkeypatch):
    """Opening, searching (every mode, filtered), showing and similar never read the whole store."""
    from goalsearch.indexer.storage.record_store import RecordStore
    from goalsearch.search import GoalSearch

    def everything(self):
        raise AssertionError("the whole record store was read")

    monkeypatch.setattr(RecordStore, "__iter__", everything)
    with GoalSearch.open(sample_index_dir) as index:
        for mode in ("bm25", "semantic", "hybrid"):
            assert index.search("社保卡制发", mode=mode, city="广州", min_amount=1)
        hit = index.search("社保卡制发", limit=1)[0]
        assert index.get(hit.record.id[:8]).id == hit.record.id
        assert index.similar(hit.record.id, other_years=True)
        assert hit.family_id and index.family_id_of(hit.record.id) == hit.family_id
        assert index.stats().records == len(index.ids)


def test_the_store_is_opened_read_only_and_left_unchanged(index_copy_dir):
    """A search in a read-only index folder works and writes nothing (no journal, no lock files)."""
    import os
    import stat

    from goalsearch.search import GoalSearch

    live = index_copy_dir / (index_copy_dir / "CURRENT").read_text().strip()
    before = {p.name: p.stat().st_mtime_ns for p in live.iterdir()}
    modes = {p: p.stat().st_mode for p in [live, *live.rglob("*")]}
    try:
        for path in modes:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        with GoalSearch.open(index_copy_dir) as index:
            assert index.search("社保卡", limit=3) and index.stats().records == 314
    finally:
        for path, mode in modes.items():
            os.chmod(path, mode)
    assert {p.name: p.stat().st_mtime_ns for p in live.iterdir()} == before


@pytest.fixture
def index_copy_dir(sample_index_dir, tmp_path) -> Path:
    import shutil

    target = tmp_path / "index"
    shutil.copytree(sample_index_dir, target)
    return target


# -- generations written before records.db ---------------------------------------------------
def _as_before_the_store(index_dir: Path) -> None:
    """Rewrite a generation as goalsearch wrote it before: records.jsonl, families.json, .npz counts."""
    import numpy as np
    from scipy import sparse

    from goalsearch.indexer.storage import generations as store
    from goalsearch.indexer.storage.terms import COUNT_ARRAYS, TERM_FIELDS, count_file, read_counts
    from goalsearch.search import GoalSearch

    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    with GoalSearch.open(index_dir) as index:
        records, families = index.records, index.family_index.families
    (live / "records.jsonl").write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), "utf-8")
    (live / "families.json").write_text(json.dumps({"format": 1, "settings": {}, "families": [f.to_dict() for f in families]},
                                                   ensure_ascii=False), "utf-8")
    (live / "records.db").unlink()
    terms = live / "terms"
    for field in TERM_FIELDS:
        counts = read_counts(terms, field)
        indptr, indices, data = (np.asarray(getattr(counts, part)) for part in COUNT_ARRAYS)
        data = data.astype(np.float32)  # counts were float32 then, in each field's own matrix
        shape = (len(records), len(indptr) - 1)  # a field no record has text in (actual) has no row to infer it from
        sparse.save_npz(terms / f"{field}.npz", sparse.csc_matrix((data, indices, indptr), shape=shape), compressed=False)
        for part in COUNT_ARRAYS:
            (terms / count_file(field, part)).unlink(missing_ok=True)
    for aligned in terms.glob("*.counts.npy"):
        aligned.unlink()
    manifest = json.loads((live / "manifest.json").read_text("utf-8"))
    manifest["checksums"] = store.checksums(live)
    store.write_json(live / "manifest.json", manifest)


def test_an_index_written_before_the_store_is_still_searched_alike(index_copy_dir, answered):
    from goalsearch.search import GoalSearch

    _as_before_the_store(index_copy_dir)
    with GoalSearch.open(index_copy_dir) as index:
        assert rankings(index, dev_queries()[:12]) == {k: v for k, v in answered.items() if k.split("|")[2] in dev_queries()[:12] or k.startswith("list|")}
        assert index.search("name:社保卡 AND city:广州", mode="bm25")
        assert index.family("市人社数据服务中心社保卡制发管理服务经费").years
    from goalsearch.search.stats import check_index

    assert check_index(index_copy_dir) == []


def _store_as_format_1(index_dir: Path) -> None:
    """Rewrite records.db as format 1 wrote it: each record's JSON as text, no dictionary."""
    import sqlite3

    from goalsearch.indexer.storage import generations as store
    from goalsearch.indexer.storage.record_store import RecordStore

    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    old = RecordStore.open(live)
    texts = [json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) for record in old]
    old.close()
    with sqlite3.connect(live / "records.db") as connection:
        connection.executemany("UPDATE records SET data = ? WHERE row = ?", [(text, row) for row, text in enumerate(texts)])
        connection.execute("UPDATE meta SET value = 1 WHERE key = 'format'")
        connection.execute("DELETE FROM meta WHERE key = 'dictionary'")
    connection.close()
    manifest = json.loads((live / "manifest.json").read_text("utf-8"))
    manifest["checksums"] = store.checksums(live)
    store.write_json(live / "manifest.json", manifest)


def test_records_are_stored_deflated_and_a_store_of_text_is_read_alike(index_copy_dir, sample_index, answered):
    """Format 2 deflates each record's JSON with a preset dictionary; a format-1 store (JSON text) of
    the same records answers the same and checks clean."""
    import sqlite3

    from goalsearch.search import GoalSearch
    from goalsearch.search.stats import check_index

    path = Path(sample_index.generation) / "records.db"
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        meta = dict(connection.execute("SELECT key, value FROM meta"))
        stored = [data for (data,) in connection.execute("SELECT data FROM records")]
    connection.close()
    assert meta["format"] == 2 and isinstance(meta["dictionary"], bytes) and 0 < len(meta["dictionary"]) <= 32 * 1024
    texts = [json.dumps(r.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8") for r in sample_index.records]
    assert all(isinstance(data, bytes) for data in stored)
    assert sum(map(len, stored)) < 0.6 * sum(map(len, texts))
    _store_as_format_1(index_copy_dir)
    with GoalSearch.open(index_copy_dir) as index:
        assert rankings(index, dev_queries()[:12]) == {k: v for k, v in answered.items()
                                                       if k.split("|")[2] in dev_queries()[:12] or k.startswith("list|")}
        assert [r.to_dict() for r in index.records] == [r.to_dict() for r in sample_index.records]
    assert check_index(index_copy_dir) == []


# -- counts in the narrowest unsigned type, float32 counts of older generations ----------------
SYNTAX = ["name:社保卡", "goal:运维 AND department:人力资源", "name:信息化 OR unit:数据"]


def test_counts_are_stored_in_the_narrowest_unsigned_type(sample_index_dir):
    import numpy as np

    from goalsearch.indexer.storage.terms import TERM_FIELDS, count_dtype, read_counts

    assert [count_dtype(n) for n in (0, 1, 255, 256, 65535, 65536, 2**32 - 1)] == \
        [np.uint8] * 3 + [np.uint16] * 2 + [np.uint32] * 2
    terms = sample_index_dir / (sample_index_dir / "CURRENT").read_text().strip() / "terms"
    aligned = []
    for field in TERM_FIELDS:
        counts = read_counts(terms, field)
        data = np.asarray(counts.data)
        assert data.dtype == count_dtype(int(data.max()) if len(data) else 0), field
        assert data.dtype.kind == "u" and (len(data) == 0 or data.min() >= 1), field
        if counts.aligned:
            aligned.append(field)
    # the fields holding most of their kind's pairs keep their counts aligned with it (term_counts), the others CSC
    assert aligned == ["goal", "goal_ngrams"]


def _counts_as_float32(index_dir: Path) -> Path:
    """Rewrite a generation's counts as goalsearch wrote them before ``count_dtype`` and ``term_counts``:
    every field's own CSC files, float32 counts."""
    import numpy as np

    from goalsearch.indexer.storage import generations as store
    from goalsearch.indexer.storage.terms import COUNT_ARRAYS, TERM_FIELDS, count_file, read_counts

    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    for field in TERM_FIELDS:
        counts = read_counts(live / "terms", field)
        arrays = {part: np.array(getattr(counts, part)) for part in COUNT_ARRAYS}  # copies: the files are rewritten
        for part, array in arrays.items():
            np.save(live / "terms" / count_file(field, part), array.astype(np.float32) if part == "data" else array,
                    allow_pickle=False)
    for aligned in (live / "terms").glob("*.counts.npy"):
        aligned.unlink()
    manifest = json.loads((live / "manifest.json").read_text("utf-8"))
    manifest["checksums"] = store.checksums(live)
    store.write_json(live / "manifest.json", manifest)
    return live


def test_an_index_whose_counts_are_float32_searches_and_rebuilds_the_same(index_copy_dir, sample_index, answered):
    """Generations written before the counts were narrowed are read alike: the same hits and scores (syntax
    scores single fields from the counts), a clean ``check``, and a rebuild reusing their rows writes the
    same arrays a fresh build does."""
    import numpy as np

    from goalsearch.indexer.storage.terms import COUNT_ARRAYS, TERM_FIELDS, read_counts, write_terms
    from goalsearch.search import GoalSearch
    from goalsearch.search.stats import check_index

    live = _counts_as_float32(index_copy_dir)
    with GoalSearch.open(index_copy_dir) as index:
        assert rankings(index, dev_queries()[:12]) == {k: v for k, v in answered.items()
                                                       if k.split("|")[2] in dev_queries()[:12] or k.startswith("list|")}
        for query in SYNTAX:
            want = [(h.record.id, h.score) for h in sample_index.search(query, mode="bm25", limit=50)]
            assert want and [(h.record.id, h.score) for h in index.search(query, mode="bm25", limit=50)] == want, query
        records = index.records
        words = tuple(index.manifest.get("user_words", ()))
    assert check_index(index_copy_dir) == []
    rebuilt = index_copy_dir / "rebuilt"
    rebuilt.mkdir()
    assert write_terms(rebuilt, records, words, previous=live) == 0  # every row reused
    fresh = Path(sample_index.generation) / "terms"
    assert sorted(p.name for p in (rebuilt / "terms").iterdir()) == sorted(p.name for p in fresh.iterdir())
    for field in TERM_FIELDS:
        for part in COUNT_ARRAYS:
            got, want = (np.asarray(getattr(read_counts(folder, field), part)) for folder in (rebuilt / "terms", fresh))
            assert got.dtype == want.dtype and np.array_equal(got, want), (field, part)


@pytest.mark.parametrize("limit", [1, 2, 7, 50, 1000])
@pytest.mark.parametrize("cities", [None, ["广州"], ["深圳", "江门"]])
def test_listing_by_amount_is_a_full_sort_cut_at_the_limit(sample_index, limit, cities):
    """The empty query lists by amount, largest first, ties in row order, whatever the limit."""
    hits = sample_index.search("", city=cities, limit=limit)
    allowed = [(r.amount or 0.0, row, r.id) for row, r in enumerate(sample_index.records)
               if cities is None or any(r.city.startswith(c) for c in cities)]
    expected = [doc_id for _, _, doc_id in sorted(allowed, key=lambda item: (-item[0], item[1]))][:limit]
    assert [h.record.id for h in hits] == expected


def test_reads_through_the_file_equal_the_arrays_sliced(tmp_path):
    """``goalsearch.indexer.storage.file_reads`` answers what slicing the array would, through the file or the map, at any span."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from goalsearch.indexer.storage.file_reads import SMALL_SPAN, read_rows, read_span

    rows = SMALL_SPAN // 12 + 500  # spans of either kind fit
    np.save(tmp_path / "m.npy", np.arange(rows * 3, dtype=np.float32).reshape(rows, 3))
    np.save(tmp_path / "v.npy", np.arange(rows, dtype=np.int32))
    arrays = [np.load(tmp_path / name, mmap_mode="r") for name in ("m.npy", "v.npy")]

    @settings(max_examples=200, deadline=None)
    @given(st.integers(-5, rows + 10), st.integers(-5, rows + 10), st.lists(st.integers(0, rows - 1), max_size=20))
    def same(start, end, picked):
        for array in arrays:
            start_, end_ = max(start, 0), max(end, 0)
            assert np.array_equal(read_span(array, start_, end_), np.asarray(array[start_:end_]))
            wanted = np.array(sorted(picked), dtype=np.int64)
            assert np.array_equal(read_rows(array, wanted), np.asarray(array[wanted]))
            assert np.array_equal(read_span(array[1:], start_, end_), np.asarray(array[1:][start_:end_]))  # a view

    same()


def test_an_unknown_section_or_kind_is_refused_not_an_empty_answer():
    """``kind=bogus`` over the web gave 200 and no hits where the CLI refuses the value."""
    from goalsearch.search import Filters, UsageError

    for field_name in ("section", "kind"):
        with pytest.raises(UsageError, match=f"unknown {field_name} 'bogus'"):
            Filters(**{field_name: ["bogus"]})
    Filters(section=["key_project"], kind=["budget", "goal_form"])
