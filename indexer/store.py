"""The index directory: generations, the CURRENT pointer, manifest and checksums.

Every build writes a complete new generation beside the live one, then switches
the one-line ``CURRENT`` file with an atomic rename. A crash at any moment leaves
either the old or the new generation current, never a half-written one. Readers
follow ``CURRENT``; the previous generation is kept one build longer for readers
that opened it just before the switch.

Our own files hold no pickle (JSON, and ``.npy`` without pickle). Whoosh pickles
its table of contents, so the manifest keeps SHA-256 checksums of every file and
an index whose files do not match is refused before Whoosh opens it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from .errors import IndexCorrupt, IndexIncompatible, IndexMissing

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(generation: Path, under: str = "") -> dict[str, str]:
    """SHA-256 of every file of a generation but the manifest (or only ``under``, a folder or file), by relative path."""
    root = generation / under if under else generation
    if root.is_file():
        return {under: sha256_file(root)}
    return {str(p.relative_to(generation)): sha256_file(p) for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data) -> None:
    """Write JSON durably: to a temporary file, fsync, then rename over the target."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def new_generation(index_dir: Path) -> Path:
    """A fresh, empty working directory for the next generation."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / f"tmp-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    return path


def current_generation(index_dir: Path) -> Path | None:
    """The live generation, or None when there is no index here."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexMissing(f"index {index_dir}: cannot read ({exc.strerror})") from None
    path = index_dir / name
    if not name or "/" in name or not path.is_dir():
        raise IndexCorrupt(f"index {index_dir}: CURRENT names a missing generation {name!r}; run `goalsearch index --rebuild`")
    return path


def publish(index_dir: Path, work: Path, manifest: dict) -> Path:
    """Seal a finished working directory and make it the live generation atomically."""
    manifest = dict(manifest, format_version=FORMAT_VERSION, checksums=checksums(work))
    write_json(work / MANIFEST, manifest)
    for path in work.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    final = index_dir / f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    previous = current_generation(index_dir)
    os.replace(work, final)
    _fsync_dir(index_dir)
    pointer_tmp = index_dir / (CURRENT + ".tmp")
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    _collect_garbage(index_dir, keep={final.name, previous.name if previous else ""})
    return final


def _collect_garbage(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.iterdir():
        if path.is_dir() and (path.name.startswith("gen-") or path.name.startswith("tmp-")) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def discard(work: Path) -> None:
    """Remove an unfinished working directory (after an error or interrupt)."""
    shutil.rmtree(work, ignore_errors=True)


def read_manifest(generation: Path, verify: bool | str = True) -> dict:
    """The manifest of a generation, checked against the files it describes.

    ``verify=True`` hashes every file (``check``, and before a build copies the generation);
    a folder or file name hashes only that: searching checks the files whose readers trust
    their input (Whoosh's pickles, faiss's binary index) before opening them, and leaves
    hashing hundreds of MB of JSON and ``.npy`` (read without pickle) to ``check``.
    """
    try:
        manifest = json.loads((generation / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"index {generation.parent}: manifest missing; run `goalsearch index --rebuild`") from None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index {generation.parent}: manifest unreadable ({exc}); run `goalsearch index --rebuild`") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(f"index {generation.parent} has format {manifest.get('format_version')}, this goalsearch reads {FORMAT_VERSION}; run `goalsearch index --rebuild`")
    if verify:
        under = verify if isinstance(verify, str) else ""
        expected = {name: digest for name, digest in manifest.get("checksums", {}).items()
                    if not under or name == under or name.startswith(under + "/")}
        actual = checksums(generation, under)
        if expected != actual:
            changed = sorted(set(expected.items()) ^ set(actual.items()))
            name = changed[0][0] if changed else "?"
            raise IndexCorrupt(f"index {generation.parent}: file {name} does not match the manifest (changed or tampered); run `goalsearch index --rebuild`")
    return manifest
