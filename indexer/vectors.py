"""The vector side of the index: one normalized float32 row per record.

Vectors live in ``vectors.npy`` (written without pickle) beside ``vector_keys.json``,
which holds for each row the record id and a hash of the embedded text and model.
A rebuild reuses every vector whose hash it already has, so re-indexing unchanged
files embeds nothing. faiss builds its search structure from these rows on open.
"""
from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from .records import Record

VECTORS = "vectors.npy"
KEYS = "vector_keys.json"
IVF = "vectors.ivf"


@lru_cache(maxsize=1)
def vector_settings() -> dict:
    """What text is embedded and when and how the approximate (IVF) index is built, from package data.

    Cached: one dict per process (tests adjust it with ``monkeypatch.setitem``).
    """
    from importlib import resources

    return json.loads(resources.files("indexer").joinpath("data/vectors.json").read_text("utf-8"))


def ivf_lists(rows: int) -> int:
    """How many inverted lists for ``rows`` vectors: ``lists_per_sqrt_n`` × √rows, with enough
    rows per list to train each centroid (faiss asks for at least 39)."""
    settings = vector_settings()
    return max(1, min(int(settings["lists_per_sqrt_n"] * math.sqrt(rows)), rows // 39))


def write_ivf(directory: Path, matrix: np.ndarray) -> bool:
    """Write an inverted-file index beside the vectors when the index is large enough; True if written.

    IVF rather than HNSW: budgets repeat the same project across years, so many vectors are
    identical, and on such data HNSW's recall stalls below 0.98 of exact search while IVF with
    32 probed lists keeps 0.99 and is faster (``benchmarks/README.md``). faiss's own binary
    format (``write_index``), not pickle; the manifest checksums it like every file.
    """
    settings = vector_settings()
    if len(matrix) < settings["approximate_min_records"]:
        return False
    import faiss

    rows = np.ascontiguousarray(matrix, dtype=np.float32)
    quantizer = faiss.IndexFlatIP(rows.shape[1])
    index = faiss.IndexIVFFlat(quantizer, rows.shape[1], ivf_lists(len(rows)), faiss.METRIC_INNER_PRODUCT)
    index.train(rows)
    index.add(rows)
    faiss.write_index(index, str(directory / IVF))
    return True


def embedded_texts(records: list[Record]) -> list[str]:
    """What the model reads for each record: ``name：goal``, the goal cut at ``embed_goal_chars``.

    The cut is measured in ``benchmarks/README.md``: at 128 characters relevance on the
    labelled queries is unchanged and embedding is about 1.6× faster than whole goals.
    """
    limit = vector_settings().get("embed_goal_chars")
    return [r.embedding_text(limit) for r in records]


def content_hash(text: str, model_name: str) -> str:
    """What a vector depends on: the model and the exact text embedded."""
    return hashlib.sha256(f"{model_name}\n{text}".encode("utf-8")).hexdigest()[:24]


def load_vectors(generation: Path) -> tuple[np.ndarray, list[dict]]:
    """The vectors and their keys (record id, content hash) of a generation."""
    keys = json.loads((generation / KEYS).read_text("utf-8"))
    vectors = np.load(generation / VECTORS, allow_pickle=False)
    return vectors, keys


def write_vectors(directory: Path, records: list[Record], embedder, previous: Path | None,
                  progress: Callable[[int, int], None] | None = None, batch_size: int = 32) -> int:
    """Write vectors for ``records``; returns how many texts had to be embedded."""
    model_name = embedder.info.name
    known: dict[str, np.ndarray] = {}
    if previous is not None and (previous / KEYS).exists():
        old_vectors, old_keys = load_vectors(previous)
        known = {key["hash"]: old_vectors[i] for i, key in enumerate(old_keys)}
    texts = embedded_texts(records)
    hashes = [content_hash(t, model_name) for t in texts]
    missing = sorted({h: i for i, h in enumerate(hashes) if h not in known}.values(), key=lambda i: len(texts[i]))
    done = 0
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        for i, vector in zip(batch, embedder.encode_documents([texts[i] for i in batch])):
            known[hashes[i]] = vector
        done += len(batch)
        if progress:
            progress(done, len(missing))
    dimension = embedder.info.dimension
    matrix = np.stack([known[h] for h in hashes]).astype(np.float32) if records else np.zeros((0, dimension), np.float32)
    np.save(directory / VECTORS, matrix, allow_pickle=False)
    write_ivf(directory, matrix)
    (directory / KEYS).write_text(json.dumps([{"id": r.id, "hash": h} for r, h in zip(records, hashes)]), "utf-8")
    return len(missing)
