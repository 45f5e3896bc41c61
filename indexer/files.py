"""The files goalsearch itself owns: its home folder, its package data, and how it writes and hashes files.

Every room of ``indexer`` needs some of these (the analyser caches jieba's dictionary in the
home folder, the models convert into it, storage hashes and writes atomically, and almost every
module reads a settings file from ``data/``), so they live here, below all of them: this module
imports nothing of goalsearch's, and anything may import it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any


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
