"""The files goalsearch itself owns: its home folder (with its locks and scratch folders), its package data,
and how it writes and hashes files.

Every room of ``indexer`` needs some of these (the analyser caches jieba's dictionary in the
home folder, the models convert into it, storage hashes and writes atomically, and almost every
module reads a settings file from ``data/``), so they live here, below all of them: this module
imports nothing of goalsearch's, and anything may import it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator


def goalsearch_home() -> Path:
    """Where goalsearch keeps converted models and caches: ``GOALSEARCH_HOME`` or ``~/.cache/goalsearch``."""
    return Path(os.environ.get("GOALSEARCH_HOME") or Path.home() / ".cache" / "goalsearch")


def package_path(name: str) -> Path:
    """A file or folder shipped inside the ``indexer`` package (``samples``, ``data/fields.json``)."""
    return Path(str(resources.files(__package__).joinpath(name)))


@lru_cache(maxsize=None)
def data_text(name: str) -> str:
    """The text of a shipped data file, ``indexer/data/<name>`` (read once per process)."""
    return resources.files(__package__).joinpath(f"data/{name}").read_text("utf-8")


def data_json(name: str) -> Any:
    """A shipped JSON data file, parsed afresh each call (callers cache and may change what they get)."""
    return json.loads(data_text(name))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (best effort: some file systems refuse to open a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a new uniquely named file beside ``path`` (never following a symlink),
    fsync it, and rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the index from other readers
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data) -> None:
    """Write JSON durably: to a temporary file, fsync, then rename over the target."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))


@contextmanager
def home_lock(name: str, wait: bool = True) -> Iterator[bool]:
    """Hold the home's lock ``<home>/<name>.lock`` for the block: two first runs converting the model
    at once must not write the same files. ``wait=False`` does not wait: the block is told False
    when another process holds it. The kernel releases a ``flock`` when its holder dies, so a killed
    writer never leaves it held; the file stays (see ``indexer.storage.lock``). A thread that holds it
    already holds it again at once (the fast model's distillation converts the default model first)."""
    path = goalsearch_home() / f"{name}.lock"
    held = _HELD.__dict__.setdefault("paths", {})
    if held.get(path):
        held[path] += 1
        try:
            yield True
        finally:
            held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        held[path] = 1
        try:
            yield True
        finally:
            held.pop(path, None)
    finally:
        os.close(fd)


_HELD = threading.local()  # .paths: the home locks this thread holds, and how deep (another thread waits)


SCRATCH = "tmp"


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A private temporary folder in the home (``<home>/tmp/<pid>-…``), ``tempfile``'s default inside the
    block, so what libraries write for us (onnxruntime's copies of the model it quantizes, 0.4 GB)
    stays in the home and goes with the folder. It is locked while it lives (a ``flock`` on the folder),
    so the next process removes the folders of killed ones, and only theirs (``_sweep``)."""
    root = goalsearch_home() / SCRATCH
    root.mkdir(parents=True, exist_ok=True)
    with home_lock(f"{SCRATCH}/.sweep"):  # no sweep between making a folder and locking it
        _sweep(root)
        path = Path(tempfile.mkdtemp(dir=root, prefix=f"{os.getpid()}-"))
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)
    saved = tempfile.tempdir
    tempfile.tempdir = str(path)
    try:
        yield path
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def sweep_scratch() -> None:
    """Remove the scratch folders of killed processes (every start calls this: one folder listing)."""
    root = goalsearch_home() / SCRATCH
    if root.is_dir() and any(not p.name.startswith(".") for p in root.iterdir()):
        with home_lock(f"{SCRATCH}/.sweep"):
            _sweep(root)


def _sweep(root: Path) -> None:
    """Remove the scratch folders whose process has died (their ``flock`` is free)."""
    for entry in root.iterdir():
        if entry.name.startswith("."):
            continue  # the sweep's own lock
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # not a folder of ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(entry, ignore_errors=True)
        except BlockingIOError:
            pass  # its process is alive
        finally:
            os.close(fd)
