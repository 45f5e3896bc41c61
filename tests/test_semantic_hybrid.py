"""The semantic side, hybrid fusion, similar, and the API's contracts."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import names
from goalsearch.indexer import IndexIncompatible, UsageError
from goalsearch.indexer.storage.vectors import embedded_texts
from goalsearch.search import GoalSearch, rrf

QUERIES = json.loads((Path(__file__).parent / "data" / "semantic_queries.json").read_text("utf-8"))["queries"]


@pytest.mark.parametrize("case", QUERIES, ids=[q["query"] for q in QUERIES])
def test_natural_language_queries(sample_index, case):
    hits = sample_index.search(case["query"], mode="semantic", limit=case["within"])
    field = case.get("field", "name")
    assert any(case["expect"] in getattr(h.record, field) for h in hits), names(hits)


def test_hybrid_puts_cloud_ops_in_top_3(sample_index):
    top = names(sample_index.search("政务云运维", limit=3))
    assert any("政务云服务运维项目" in n for n in top)


def test_city_filter_returns_only_that_city(sample_index):
    hits = sample_index.search("社保卡", city="深圳", limit=10)
    assert hits and {h.record.city for h in hits} == {"深圳市"}


def test_hybrid_hits_explain_both_sides(sample_index):
    hit = sample_index.search("政务云运维", limit=1, fusion="rrf")[0]
    assert hit.bm25_rank and hit.semantic_rank
    k = 60
    assert hit.score == pytest.approx(1 / (k + hit.bm25_rank) + 1 / (k + hit.semantic_rank))
    # convex (the default): 0.6 × bm25 / its best + 0.4 × cosine min-max over the 100 candidates of each side
    hit = sample_index.search("政务云运维", limit=1)[0]
    bm25 = [h.bm25_score for h in sample_index.search("政务云运维", mode="bm25", limit=100)]
    cosines = [h.semantic_score for h in sample_index.search("政务云运维", mode="semantic", limit=100)]
    expected = 0.6 * hit.bm25_score / max(bm25) + 0.4 * (hit.semantic_score - min(cosines)) / (max(cosines) - min(cosines))
    assert hit.score == pytest.approx(expected)


@pytest.mark.parametrize("query", ["社保卡", "机房运维", "帮失业人员和企业做岗位撮合、求职咨询和招聘会的公共服务"])
def test_semantic_mode_does_not_depend_on_the_fusion_option(sample_index, query):
    """``--fusion`` is how hybrid fuses its final list; the feedback that moves the query vector always starts
    from the shipped fusion, so semantic mode gives the same hits, scores and order with either option."""
    convex = [(h.record.id, h.score) for h in sample_index.search(query, mode="semantic", limit=20)]
    assert [(h.record.id, h.score) for h in sample_index.search(query, mode="semantic", limit=20, fusion="rrf")] == convex


def test_rrf_arithmetic():
    fused = dict(rrf([["a", "b", "c"], ["c", "a"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert [doc for doc, _ in rrf([["a", "b", "c"], ["c", "a"]], k=60)] == ["a", "c", "b"]
    with pytest.raises(ValueError):
        rrf([["a"]], k=-1)


def test_similar_finds_other_years_of_the_same_centre(sample_index):
    target = sample_index.find("广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目")
    hits = sample_index.similar(target.id, limit=5)
    assert target.id not in [h.record.id for h in hits]
    assert any(h.record.year != target.year and "软件运维" in h.record.name for h in hits)
    assert any("2025-2026年软件运维项目" in h.record.name for h in hits)


def test_similar_other_cities_and_years(sample_index):
    target = sample_index.find("广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目")
    hits = sample_index.similar(target.id, limit=5, other_cities=True)
    assert hits and all(h.record.city != target.city for h in hits)
    hits = sample_index.similar(target.id, limit=5, other_years=True)
    assert hits and all(h.record.year != target.year for h in hits)


def test_similar_by_text(sample_index):
    hits = sample_index.similar(text="为12345政务服务热线的话务场地提供物业和保洁", limit=5)
    assert any("12345" in h.record.goal for h in hits)


def test_ambiguous_name_lists_candidates(sample_index):
    from goalsearch.search import AmbiguousRecord

    with pytest.raises(AmbiguousRecord) as caught:
        sample_index.similar("机构运行辅助经费")
    assert len(caught.value.candidates) > 1


def test_hit_to_dict_has_record_fields_and_scores(sample_index):
    data = sample_index.search("社保卡", limit=1)[0].to_dict()
    assert {"id", "name", "goal", "city", "year", "department", "unit", "amount", "category", "sections", "source",
            "line", "indicators", "score", "rank", "bm25_rank", "semantic_rank", "highlights"} <= data.keys()
    json.dumps(data, ensure_ascii=False)


def test_stored_vectors_match_the_engine(sample_index):
    record = max(sample_index.records, key=lambda r: len(r.goal))
    assert embedded_texts([record]) == [record.embedding_text(), record.goal]  # two views, whole goals (data/vectors.json)
    fresh = np.concatenate(sample_index._embedder().encode_documents(embedded_texts([record])))
    # int8 activations are quantized per batch, and the index embedded these texts among 30 others.
    same = 0.995 if sample_index.manifest["model"]["backend"] == "onnx-int8" else 0.9999
    assert float(np.dot(fresh, sample_index.vectors.vector_of(record.id))) > 2 * same


def test_index_built_with_one_model_refuses_another(sample_index_dir):
    with pytest.raises(IndexIncompatible, match="was built with model 'multilingual-e5-small'"):
        GoalSearch.open(sample_index_dir, model="/some/other/model")


@pytest.mark.parametrize("kwargs, message", [
    ({"years": (2026, 2023)}, "reversed"),
    ({"min_amount": -1}, "negative"),
    ({"min_amount": 10, "max_amount": 5}, "reversed"),
    ({"mode": "fuzzy"}, "unknown mode"),
    ({"limit": 0}, "limit must be at least 1"),
])
def test_bad_arguments_raise_usage_errors(sample_index, kwargs, message):
    with pytest.raises(UsageError, match=message):
        sample_index.search("运维", **kwargs)


@pytest.mark.parametrize("query", ["", "！！！", "🙂🙂", "运维" * 5000, "a" * 10000])
def test_odd_queries_answer_without_error(sample_index, query):
    sample_index.search(query, limit=3)


def test_large_indexes_search_an_ivf_index(tmp_path, monkeypatch, sample_index, sample_index_dir):
    import shutil

    from goalsearch.indexer import index_paths
    from goalsearch.indexer.storage.vectors import vector_settings
    from goalsearch.search import sample_corpus

    monkeypatch.setitem(vector_settings(), "approximate_min_records", 100)
    monkeypatch.setitem(vector_settings(), "nprobe", 1)
    shutil.copytree(sample_index_dir, tmp_path / "ivf")  # re-indexing reuses its vectors: no embedding
    index_paths([sample_corpus()], tmp_path / "ivf")
    assert list((tmp_path / "ivf").glob("gen-*/vectors.ivf"))
    queries = ("客服电话接听中心", "摄像头联网感知", "给机关干部做年度体检")
    with GoalSearch.open(tmp_path / "ivf") as approximate:
        assert approximate.vectors.approximate.nlist == 8  # 314 records: at least 39 rows per list
        assert approximate.vectors.approximate.code_size == 2 * 384  # 8-bit codes: a byte per dimension
        one_list = [names(approximate.search(q, mode="semantic", limit=10)) for q in queries]
        approximate.vectors.nprobe = 8  # every list probed: exactly the exact answers
        all_lists = [names(approximate.search(q, mode="semantic", limit=10)) for q in queries]
        assert all_lists == [names(sample_index.search(q, mode="semantic", limit=10)) for q in queries]
        assert one_list != all_lists  # one probed list really is approximate
        approximate.vectors.nprobe = 1
        filtered = approximate.search("运维", mode="semantic", city=["深圳"], limit=3)  # few allowed: every list
        assert filtered and {h.record.city for h in filtered} == {"深圳市"}
        few = [names(index.search("系统运维", mode="semantic", city=["深圳", "江门"], limit=1000))
               for index in (approximate, sample_index)]
        assert few[0] == few[1] and len(few[0]) == 10  # complete, in the exact order
        wide = approximate.search("运维", mode="semantic", city=["广州"], limit=10)  # most allowed: IVF
        assert len(wide) == 10 and {h.record.city for h in wide} == {"广州市"}
        everything = sample_index.search("运维", mode="semantic", city=["广州"], limit=1000)
        assert len(approximate.search("运维", mode="semantic", city=["广州"], limit=1000)) == len(everything)


def test_a_repeated_query_is_encoded_once_and_the_cache_is_bounded(sample_index_dir, monkeypatch):
    with GoalSearch.open(sample_index_dir) as index:
        embedder = index._embedder()
        encoded: list[str] = []
        original = type(embedder).encode_queries
        monkeypatch.setattr(type(embedder), "encode_queries",
                            lambda self, texts, **kwargs: encoded.extend(texts) or original(self, texts, **kwargs))
        first = [h.record.id for h in index.search("政务云运维", mode="semantic")]
        index.search("政务云运维", mode="hybrid")
        assert [h.record.id for h in index.search("政务云运维", mode="semantic")] == first
        assert encoded == ["政务云运维"]
        assert not index.encode_query("政务云运维").flags.writeable  # shared: no caller may change it
        index.query_cache_size = 2
        for query in ("社保卡", "热线", "物业"):
            index.encode_query(query)
        assert [text for text, _ in index._query_vectors] == ["热线", "物业"]


def test_a_cached_query_vector_is_the_encoder_output_for_that_text_and_prompt(sample_index_dir, monkeypatch):
    from goalsearch.search.lexical.plain import query_settings

    with GoalSearch.open(sample_index_dir) as index:
        embedder = index._embedder()
        cached = index.encode_query("热线")
        assert index.encode_query("热线") is cached
        assert np.array_equal(cached, embedder.encode_queries(["热线"])[0])  # what the encoder gives, unmoved
        monkeypatch.setitem(query_settings(), "paste_chars", 1)  # the same text is now a pasted passage
        passage = index.encode_query("热线")
        assert np.array_equal(passage, embedder.encode_queries(["热线"], passage=True)[0])
        assert not np.array_equal(passage, cached)
        assert len(index._query_vectors) == 2
