"""Building an index on Ray: documents parsed and records embedded as Ray Data tasks.

The roles:

- ``index_paths_ray`` is ``index_paths`` with the two costly steps spread over a Ray cluster:
  a local Ray started for the run when no address is given (nor ``RAY_ADDRESS``), or an
  existing cluster. Everything else, the full text, the term matrices, the vector file and
  the atomic publish, runs in the driver through ``build_index``: one writer, the same
  generation as a plain ``index`` of the same files, and a run that dies before publishing
  leaves the live generation as it was.
- ``RayEmbedder`` stands in for the embedder inside ``build_index``. Given the texts to embed,
  it cuts them into the chunks the plain build would pass to its embedder, in the same order,
  and sends the chunks to a pool of ``ChunkEmbedder`` actors, each of which loads the model
  once and runs on one CPU. The same chunks make the same batches (int8 activations are
  quantized per batch), so the vectors equal the plain build's.

Ray is imported only here, and this module only by ``goalsearch index --ray``
(``pip install -e '.[cluster]'``). Rates are in ``benchmarks/README.md``.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from .storage import generations as store
from .build import BuildResult, Progress, _refuse, build_index, refuse_what_cannot_be_indexed
from .parse.document import collect_files, parse
from .models.embedding import configured_model
from .models.loading import load_embedder
from .errors import DocumentError, Unreadable, UsageError
from .models.onnx_embedder import Backend, OnnxEmbedder, backend_for
from .records import IngestReport, Record

CHUNK = 32  # texts per actor call: what write_vectors hands the embedder in a plain build


def parse_row(row: dict) -> dict:
    """One file parsed on a Ray worker: its records and report as JSON, or why it could not be read."""
    try:
        records, report = parse(row["source"])
    except Unreadable as exc:
        return {"number": row["number"], "unreadable": str(exc), "records": "[]", "report": ""}
    except DocumentError as exc:
        report, records = IngestReport(source=row["source"], error=str(exc)), []
    return {"number": row["number"], "unreadable": "", "report": json.dumps(report.to_dict(), ensure_ascii=False),
            "records": json.dumps([r.to_dict() for r in records], ensure_ascii=False)}


class ChunkEmbedder:
    """A Ray actor's model, loaded once: a chunk of texts in, their vectors out (float32 bytes)."""

    def __init__(self, model: str, backend: str | None, threads: int) -> None:
        if backend in (Backend.ONNX.value, Backend.ONNX_INT8.value):
            self.embedder = OnnxEmbedder(Backend(backend), threads=threads)
        else:
            self.embedder = load_embedder(model, backend)

    def __call__(self, row: dict) -> dict:
        vectors = np.ascontiguousarray(self.embedder.encode_documents(list(row["texts"])), dtype=np.float32)
        return {"number": row["number"], "vectors": vectors.tobytes()}


class RayEmbedder:
    """``encode_documents`` on a pool of Ray actors; ``info`` is the local model's (nothing loaded)."""

    texts_per_call = 1 << 30  # write_vectors: hand over every text at once, the pool does the batching

    def __init__(self, model: str, backend: str | None, workers: int | None = None, progress=None) -> None:
        self.local = load_embedder(model, backend)
        self.info = self.local.info
        self.model, self.backend = model, backend
        self.workers = workers
        self.progress = progress

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        import ray

        texts = list(texts)
        dimension = self.info.dimension
        if not texts:
            return np.zeros((0, dimension), np.float32)
        if isinstance(self.local, OnnxEmbedder):
            from .models.onnx_embedder import build_onnx_model

            build_onnx_model(self.local.backend)  # once, here, before the actors look for it
        chunks = [{"number": i, "texts": texts[start:start + CHUNK]} for i, start in enumerate(range(0, len(texts), CHUNK))]
        workers = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        vectors = ray.data.from_items(chunks, override_num_blocks=min(len(chunks), workers * 4)).map(
            ChunkEmbedder, fn_constructor_kwargs={"model": self.model, "backend": self.backend, "threads": 1},
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(chunks))), num_cpus=1)
        out = np.empty((len(texts), dimension), np.float32)
        done = 0
        for row in vectors.iter_rows():
            block = np.frombuffer(row["vectors"], dtype=np.float32).reshape(-1, dimension)
            out[row["number"] * CHUNK:row["number"] * CHUNK + len(block)] = block
            done += len(block)
            if self.progress:
                self.progress("embed", done, len(texts))
        return out


def start_ray(address: str | None) -> bool:
    """Connect to ``address`` (or ``RAY_ADDRESS``), or start a local Ray; True if this call started it."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install -e '.[cluster]'") from None
    if ray.is_initialized():
        return False
    # Workers started here find the converted model and settings where the driver does.
    keep = {k: v for k, v in os.environ.items() if k.startswith("GOALSEARCH_") or k.startswith("HF_")}
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # its core worker's notes are not the user's business
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ray.init(address=address or None, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": keep} if keep else None)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return True


def index_paths_ray(paths: list[str | Path], index_dir: str | Path, address: str | None = None,
                    model: str | None = None, rebuild: bool = False, user_dict: str | None = None,
                    progress: Progress | None = None, keep_going: bool = False, synonyms: str | None = None,
                    workers: int | None = None) -> BuildResult:
    """``index_paths`` with parsing and embedding as Ray Data tasks; the same index, published by this process.

    ``address``: a Ray cluster (``ray://host:10001`` or ``host:6379``); default ``RAY_ADDRESS``, else
    a local Ray for this run, stopped at the end. ``workers``: embedding actors (default: the cluster's CPUs).
    """
    from .analysis.analyzer import read_user_dict
    from .analysis.synonyms import read_synonym_lines

    files, unreadable = collect_files(paths)
    if unreadable and not keep_going:
        _refuse(unreadable)
    started = start_ray(address)  # UsageError naming the extra when Ray is not installed
    import ray

    try:
        rows = [{"number": n, "source": str(path.resolve())} for n, path in enumerate(files)]
        parsed = sorted(ray.data.from_items(rows).map(parse_row).take_all(), key=lambda row: row["number"]) if rows else []
        records: list[Record] = []
        reports: list[IngestReport] = []
        for number, row in enumerate(parsed, start=1):
            if row["unreadable"]:
                unreadable.append(row["unreadable"])
                continue
            records.extend(Record.from_dict(r) for r in json.loads(row["records"]))
            reports.append(IngestReport.from_dict(json.loads(row["report"])))
            if progress:
                progress("parse", number, len(parsed))
        refuse_what_cannot_be_indexed(unreadable, keep_going, rebuild, records, paths)
        # The backend build_index would choose, read before it takes the lock (it records what was used).
        previous = None if rebuild else store.current_generation(Path(index_dir))
        built_with = store.read_manifest(previous, verify=False).get("model", {}) if previous else {}
        model = model or built_with.get("requested") or configured_model()
        embedder = RayEmbedder(model, backend_for(model, built_with), workers, progress)
        result = build_index(records, index_dir, reports, model=model, rebuild=rebuild, progress=progress,
                             extra_words=read_user_dict(user_dict) if user_dict else None, embedder=embedder,
                             synonyms=read_synonym_lines(synonyms) if synonyms else None)
    finally:
        if started:
            ray.shutdown()
    result.notes[:0] = [f"skipped: {problem}" for problem in unreadable]
    return result
