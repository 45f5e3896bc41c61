"""The default model with int8 weights: exported to ONNX, quantized by onnxruntime (benchmark only).

``Int8Embedder(default_embedder)`` exports the converted sentence-transformers folder's
BERT to ONNX (``torch.onnx.export``), applies onnxruntime's dynamic quantization
(``quantize_dynamic``, int8 weights, activations quantized per batch), and encodes with
the folder's own tokenizer, mean pooling and L2 normalization, as sentence-transformers
does. Used by ``embedding_choices.py`` to put its speed and relevance beside fp32.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


def export_int8(folder: Path, out_dir: Path) -> Path:
    """Write ``model.onnx`` (goalsearch's own export, ``goalsearch.indexer.models.onnx_embedder``) and its int8 twin
    quantized per tensor, as measured in 2026-11-23's table; returns the int8 file. goalsearch's
    default backend quantizes per output channel instead (``onnx-int8``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from goalsearch.indexer.models.onnx_embedder import _export

    fp32 = out_dir / "model.onnx"
    _export(folder, fp32)
    int8 = out_dir / "model.int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return int8


class Int8Embedder:
    """Same prompts and pooling as ``inner`` (a sentence-transformers folder embedder), int8 weights
    (or the fp32 ONNX export with ``quantized=False``, to separate the runtime's gain from int8's)."""

    def __init__(self, inner, batch_size: int = 32, quantized: bool = True) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.inner = inner
        self.info = inner.info
        self.batch_size = batch_size
        self._tmp = tempfile.TemporaryDirectory()
        path = export_int8(Path(inner.path), Path(self._tmp.name))
        path = path if quantized else path.with_name("model.onnx")
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(inner.path) / "tokenizer.json"))
        self.tokenizer.enable_truncation(512)
        self.tokenizer.enable_padding()

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.tokenizer.encode_batch(texts[start:start + self.batch_size])
            ids = np.array([e.ids for e in batch], dtype=np.int64)
            mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out).astype(np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.info.document_prompt + t for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.info.query_prompt + t for t in texts])
