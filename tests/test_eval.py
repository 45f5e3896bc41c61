"""Relevance evaluation: metric arithmetic, the query file, and hybrid against its halves."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from goalsearch.indexer import UsageError
from goalsearch.search import evaluate, load_queries
from goalsearch.search.metrics import mrr_at_k, ndcg_at_k, recall_at_k

QUERIES = Path(__file__).parent.parent / "benchmarks" / "eval_queries.json"


def test_metric_arithmetic():
    judgements = {"a": 2, "b": 1, "c": 1}
    ranked = ["x", "a", "c"]
    dcg = (2 ** 2 - 1) / math.log2(3) + (2 ** 1 - 1) / math.log2(4)
    ideal = (2 ** 2 - 1) / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, judgements) == pytest.approx(dcg / ideal)
    assert recall_at_k(ranked, judgements) == pytest.approx(2 / 3)
    assert mrr_at_k(ranked, judgements) == pytest.approx(1 / 2)
    assert mrr_at_k(["x"], judgements) == 0.0 and ndcg_at_k(["a"], {}) == 0.0


def test_query_set_is_large_varied_and_resolves(sample_index):
    queries = load_queries(QUERIES)
    assert len(queries) >= 40 and {q["kind"] for q in queries} == {"keyword", "description", "goal"}
    report = evaluate(sample_index, queries, modes=["bm25"])
    assert report.problems == []


def test_hybrid_beats_both_halves_overall(sample_index):
    report = evaluate(sample_index, load_queries(QUERIES))
    overall = {mode: report.by_mode[mode]["overall"] for mode in ("bm25", "semantic", "hybrid")}
    for metric in ("ndcg@10", "recall@10", "mrr@10"):
        assert overall["hybrid"][metric] > max(overall["bm25"][metric], overall["semantic"][metric]), (metric, overall)


def test_eval_command_json(sample_index_dir):
    result = CliRunner().invoke(cli, ["eval", str(QUERIES), "--format", "json", "--index-dir", str(sample_index_dir)],
                                catch_exceptions=False)
    data = json.loads(result.stdout)
    assert set(data) == {"hybrid", "bm25", "semantic"}
    assert set(data["hybrid"]) == {"keyword", "description", "goal", "overall"}


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"queries": []}', "at least one query"),
    ('{"queries": [{"id": "q", "query": "x"}]}', "query 1 lacks kind, relevant"),
])
def test_bad_query_files(tmp_path, content, message):
    path = tmp_path / "q.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_queries(path)
