"""indexer.models: embedding models that run offline — conversion, ONNX, the static model.

``load_embedder(model)`` gives the embedder for a model name or folder; the rest are the steps a
first run takes (convert the bundled multilingual-e5-small, export it to ONNX, distil the fast model).
"""
from .embedding import DEFAULT_MODEL, ModelInfo, build_default_model, build_fast_model, configured_model, default_model_dir
from .loading import load_embedder
from .onnx_embedder import Backend, backend_for, configured_backend, model_problems, refuse_other_backend

__all__ = [
    "Backend", "DEFAULT_MODEL", "ModelInfo", "backend_for", "build_default_model", "build_fast_model",
    "configured_backend", "configured_model", "default_model_dir", "load_embedder", "model_problems",
    "refuse_other_backend",
]
