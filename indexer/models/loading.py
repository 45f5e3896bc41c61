"""Choosing and loading the embedder for a model name: the one place that knows every kind of model.

The default model runs its documents on onnxruntime (``onnx_embedder``) or sentence-transformers
(``embedding``); ``fast`` is the static model (``static``); anything else is a sentence-transformers
folder. This module sits above those three so that none of them needs to know the others.
"""
from __future__ import annotations

from functools import lru_cache

from .embedding import DEFAULT_MODEL, DefaultEmbedder, SentenceTransformerEmbedder, build_fast_model
from .onnx_embedder import Backend, OnnxEmbedder, configured_backend
from .static import FAST_MODEL


@lru_cache(maxsize=4)
def load_embedder(model: str = DEFAULT_MODEL, backend: str | None = None):
    """The embedder for a model name (``multilingual-e5-small``, ``fast``) or folder, loaded once per process.

    ``backend`` runs the default model's documents: ``onnx-int8`` (default, or ``GOALSEARCH_BACKEND``),
    ``onnx`` or ``torch`` (``indexer.models.onnx_embedder``); other models run on sentence-transformers.
    """
    if model in (DEFAULT_MODEL, "", None):
        chosen = Backend.parse(backend) if backend else configured_backend()
        return DefaultEmbedder() if chosen is Backend.TORCH else OnnxEmbedder(chosen)
    if model == FAST_MODEL:
        folder = build_fast_model()
        return SentenceTransformerEmbedder(str(folder), name=folder.name)
    return SentenceTransformerEmbedder(model)
