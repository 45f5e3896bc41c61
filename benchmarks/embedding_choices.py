"""What to embed, and with which model: relevance and embedding speed of each choice.

    python benchmarks/embedding_choices.py [--json out.json] [--variants whole,name,goal128,goal256,fast,onnx32,int8]

Builds the sample index once per variant in a temporary folder and runs the labelled
queries (``eval_queries.json``) through ``semantic`` and ``hybrid`` (BM25 is the same in
every variant). Variants change one thing at a time:

- ``whole``: multilingual-e5-small over ``name：goal``, the whole goal;
- ``name``: the project name alone;
- ``goal128`` / ``goal256``: ``name：goal`` with the goal cut after 128 / 256 characters
  (128 is what goalsearch embeds, ``data/vectors.json``);
- ``fast``: the fast static model (``--model fast``) over goalsearch's text;
- ``int8``: the default model's weights quantized to int8 by onnxruntime (needs
  ``pip install onnxruntime onnx``; documents and queries both go through it);
- ``onnx32``: the same ONNX export in fp32, to tell the runtime's gain from int8's.

Embedding speed is texts per second over the 314 sample texts in this process.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goalsearch.indexer import build_index, parse_paths  # noqa: E402
from goalsearch.indexer.models import load_embedder  # noqa: E402
from goalsearch.indexer.storage.vectors import embedded_texts  # noqa: E402
from goalsearch.search import GoalSearch, sample_corpus  # noqa: E402
from goalsearch.search.evaluate import evaluate, load_queries  # noqa: E402

TEXTS = {
    "whole": lambda r: r.embedding_text(),
    "name": lambda r: r.name,
    "goal128": lambda r: r.embedding_text(128),
    "goal256": lambda r: r.embedding_text(256),
}


def embedded_text(record) -> str:
    """What goalsearch embeds by default (``data/vectors.json``)."""
    return embedded_texts([record])[0]


class RewritingEmbedder:
    """The default embedder, fed another text of each record than the one goalsearch would embed."""

    def __init__(self, inner, records, text_of) -> None:
        self.inner = inner
        self.info = inner.info
        self.rewrite = dict(zip(embedded_texts(records), map(text_of, records)))
        self.seconds = 0.0
        self.texts = 0

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.encode_documents([self.rewrite.get(t, t) for t in texts])
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)


def run(variant: str, records, queries) -> dict:
    model = "fast" if variant == "fast" else None
    inner = load_embedder(model or "multilingual-e5-small")
    if variant in ("int8", "onnx32"):
        from onnx_int8 import Int8Embedder

        inner = Int8Embedder(inner, quantized=variant == "int8")
    inner.encode_documents(["预热"])  # load the model before the clock starts
    embedder = RewritingEmbedder(inner, records, TEXTS.get(variant, embedded_text))
    with tempfile.TemporaryDirectory() as tmp:
        build_index(records, Path(tmp) / "index", model=model, embedder=embedder)
        with GoalSearch.open(Path(tmp) / "index") as index:
            if variant in ("int8", "onnx32"):
                index._embedder = lambda: inner  # queries through the same quantized model
            report = evaluate(index, queries, modes=["semantic", "hybrid"])
    overall = {mode: kinds["overall"] for mode, kinds in report.by_mode.items()}
    return {"variant": variant, "texts_per_s": round(embedder.texts / max(embedder.seconds, 1e-9), 1), **overall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="whole,name,goal128,goal256,fast,onnx32,int8")
    parser.add_argument("--json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    records, _ = parse_paths([sample_corpus()])
    queries = load_queries(ROOT / "benchmarks" / "eval_queries.json")
    results = []
    for variant in args.variants.split(","):
        results.append(run(variant, records, queries))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
