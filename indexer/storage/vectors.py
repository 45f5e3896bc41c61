"""The vector side of the index: one float32 row per record, made of one normalized vector per view.

A record is embedded in views (``data/vectors.json``): ``name：goal`` and the goal alone.
Its row is the views' vectors side by side, so the inner product with the query vector
repeated once per view is the sum of the views' cosines — one faiss search scores both.
On queries nobody wrote for the index, the two views together rank better than either
(``benchmarks/README.md``, dev set: semantic nDCG@10 0.664 against 0.632 for ``name：goal``).

Vectors live in ``vectors.npy`` (written without pickle) beside ``vector_keys.json``,
which holds for each row the record id and a hash of the embedded texts and model.
A rebuild reuses every vector whose hash it already has, so re-indexing unchanged
files embeds nothing. From ``approximate_min_records`` records an IVF index (``vectors.ivf``) is written beside them.
"""
from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..files import data_json
from ..records import Record

VECTORS = "vectors.npy"
KEYS = "vector_keys.json"
IVF = "vectors.ivf"


@lru_cache(maxsize=1)
def vector_settings() -> dict:
    """What text is embedded and when and how the approximate (IVF) index is built, from package data.

    Cached: one dict per process (tests adjust it with ``monkeypatch.setitem``).
    """
    return data_json("vectors.json")


def ivf_lists(rows: int) -> int:
    """How many inverted lists for ``rows`` vectors: ``lists_per_sqrt_n`` × √rows, with enough
    rows per list to train each centroid (faiss asks for at least 39)."""
    settings = vector_settings()
    return max(1, min(int(settings["lists_per_sqrt_n"] * math.sqrt(rows)), rows // 39))


def wants_ivf(rows: int) -> bool:
    """Does an index of ``rows`` records get an IVF index beside its vectors (``approximate_min_records``)?"""
    return rows >= vector_settings()["approximate_min_records"]


def vector_layout() -> dict:
    """The settings a generation's manifest records of how its vectors were made: what each view embeds."""
    settings = vector_settings()
    return {"views": settings["views"], "embed_goal_chars": settings["embed_goal_chars"]}


def write_ivf(directory: Path, matrix: np.ndarray) -> bool:
    """Write an inverted-file index beside the vectors when the index is large enough; True if written.

    IVF rather than HNSW: budgets repeat the same project across years, so many vectors are
    identical, and on such data HNSW's recall stalls below 0.98 of exact search while IVF with
    32 probed lists keeps 0.99 and is faster (``benchmarks/README.md``). Its lists hold 8-bit codes, a quarter
    of the float rows: the search re-scores its candidates with the rows themselves (``search.semantic``),
    so the codes only choose candidates, and a searching process maps a quarter of the bytes. faiss's own binary
    format (``write_index``), not pickle; the manifest checksums it like every file.
    """
    if not wants_ivf(len(matrix)):
        return False
    import faiss

    rows = np.ascontiguousarray(matrix, dtype=np.float32)
    quantizer = faiss.IndexFlatIP(rows.shape[1])
    index = faiss.IndexIVFScalarQuantizer(quantizer, rows.shape[1], ivf_lists(len(rows)), faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.train(rows)
    index.add(rows)
    faiss.write_index(index, str(directory / IVF))
    return True


VIEWS = {
    "name_goal": lambda record, limit: record.embedding_text(limit),
    "goal": lambda record, limit: (record.goal[:limit] if limit else record.goal) or record.name,
}


def record_views(record: Record) -> tuple[str, ...]:
    """The texts the model reads for one record, one per view (``views`` in ``data/vectors.json``).

    Whole goals, not the first 128 characters: on the dev set the cut cost 0.03 nDCG@10 of
    the semantic side on descriptions and pasted texts (``benchmarks/README.md``).
    """
    settings = vector_settings()
    return tuple(VIEWS[view](record, settings.get("embed_goal_chars")) for view in settings["views"])


def embedded_texts(records: list[Record]) -> list[str]:
    """Every text the model reads for ``records``, record by record, view by view."""
    return [text for record in records for text in record_views(record)]


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
    """Write vectors for ``records``; returns how many texts had to be embedded (views of changed records)."""
    backend = getattr(embedder.info, "backend", "torch")  # another backend's vectors are not reused
    model_name = embedder.info.name if backend == "torch" else f"{embedder.info.name}+{backend}"
    known: dict[str, np.ndarray] = {}
    if previous is not None and (previous / KEYS).exists():
        old_vectors, old_keys = load_vectors(previous)
        known = {key["hash"]: old_vectors[i] for i, key in enumerate(old_keys)}
    views = [record_views(r) for r in records]
    hashes = [content_hash("\x1f".join(texts), model_name) for texts in views]
    wanted = {h: texts for h, texts in zip(hashes, views) if h not in known}
    # One text per view of every record to embed, shortest first so batches pad little; ties by text, so that
    # every build batches alike (int8 activations are quantized per batch: a neighbour changes a vector).
    to_embed = sorted({text for texts in wanted.values() for text in texts}, key=lambda text: (len(text), text))
    vector_of: dict[str, np.ndarray] = {}
    batch_size = getattr(embedder, "texts_per_call", batch_size)  # a Ray pool takes them all and batches itself
    for start in range(0, len(to_embed), batch_size):
        batch = to_embed[start:start + batch_size]
        vector_of.update(zip(batch, embedder.encode_documents(batch)))
        if progress:
            progress(min(start + batch_size, len(to_embed)), len(to_embed))
    # Each row written once into the matrix: at a million records a list of rows, its stack and a float32
    # copy of that were three copies of 3 GB (issue #32).
    dimension = embedder.info.dimension * len(vector_settings()["views"])
    matrix = np.empty((len(records), dimension), dtype=np.float32)
    for row, (digest, texts) in enumerate(zip(hashes, views)):
        matrix[row] = known[digest] if digest in known else np.concatenate([vector_of[text] for text in texts])
    del vector_of, known
    np.save(directory / VECTORS, matrix, allow_pickle=False)
    write_ivf(directory, matrix)
    (directory / KEYS).write_text(json.dumps([{"id": r.id, "hash": h} for r, h in zip(records, hashes)]), "utf-8")
    return len(to_embed)
