"""The index directory: generations, the CURRENT pointer, manifest and checksums.

Every build writes a complete new generation beside the live one, then switches
the one-line ``CURRENT`` file with an atomic rename. A crash at any moment leaves
either the old or the new generation current, never a half-written one. Readers
follow ``CURRENT``; the previous generation is kept one build longer for readers
that opened it just before the switch, and a reader that keeps a generation open
holds a shared ``flock`` on its folder (``pin``), which clean-up respects.

Clean-up removes only what this index made and no longer needs. ``GENERATIONS`` lists,
in order, the generations published here (and the live one each publish replaced).
After a publish, clean-up removes the working folders ``tmp-<hex>`` of killed writers
(we hold the write lock, so no live writer owns one) and every listed generation except
the new live one and the one it replaced, skipping any a reader has pinned (it stays
listed and goes next time). A folder not in the list (copied in, made by hand, from
before the list existed) is never removed. A publish that replaced no live generation
(the first one, or after ``CURRENT`` was deleted) starts the list anew, so generations
left from before are kept for their owner to recover.

Temporary files (the manifest's, the pointer's, the list's) get unique names from
``tempfile`` (``O_CREAT|O_EXCL``, so a planted symlink is never followed) and are then
renamed over their target, which replaces a symlink rather than writing through it.

Our own files hold no pickle (JSON, and ``.npy`` without pickle). Whoosh pickles
its table of contents, so the manifest keeps SHA-256 checksums of every file and
an index whose files do not match is refused before Whoosh opens it.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import time
import uuid
from pathlib import Path

from ..errors import IndexCorrupt, IndexIncompatible, IndexMissing, InterruptedAfterPublish
from ..files import data_json, fsync_dir, sha256_file, write_atomic, write_json
from .lock import LOCK_NAME
from .schemas import schema_problem

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LEDGER = "GENERATIONS"
PLACEHOLDER = ("The default index location (`goalsearch` writes here when run from the project root). "
               "Written only through `indexer`; safe to delete.\n").encode("utf-8")  # the repository's index/README.md
_GENERATION = re.compile(r"gen-[0-9]{14}-[0-9a-f]{8}")
_WORK = re.compile(r"tmp-[0-9a-f]{12}")
_TEMP = re.compile(r"\.(?:CURRENT|GENERATIONS)\.[A-Za-z0-9_]+\.tmp")


def looks_like_generation(name: str) -> bool:
    """Is ``name`` a generation or working folder name of ours?"""
    return bool(_GENERATION.fullmatch(name) or _WORK.fullmatch(name))


def foreign_names(index_dir: Path) -> list[str]:
    """What a location without ``CURRENT`` holds besides a writer's leftovers from before its first
    publish (the lock, the list of generations, working folders, unrenamed temporary files) and the
    repository's placeholder ``index/README.md``: someone's own files, or generation folders of an index
    that lost its pointer. Empty: nothing was ever published here, and building here destroys nothing
    (the build's clean-up removes the leftovers, and leaves the placeholder)."""
    return sorted(p.name for p in index_dir.iterdir()
                  if not (p.name in (LOCK_NAME, LEDGER) or _WORK.fullmatch(p.name) or _TEMP.fullmatch(p.name)
                          or _placeholder(p)))


def _placeholder(path: Path) -> bool:
    """Is this the README a clone's ``index/`` holds (git keeps no empty folder)? Only with exactly its words:
    a README of the user's own makes the folder theirs."""
    if path.name != "README.md" or path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as file:
            return file.read(len(PLACEHOLDER) + 1) == PLACEHOLDER
    except OSError:
        return False


def checksums(generation: Path, under: str = "") -> dict[str, str]:
    """SHA-256 of every file of a generation but the manifest (or only ``under``, a folder or file), by relative path.

    A generation holds only regular files and folders that goalsearch wrote. A symlink or a special file
    (a FIFO, a device) planted in one is never followed, opened or copied: it is ``IndexCorrupt`` here, so
    reading the manifest with ``verify`` (before an update copies the generation) refuses it.
    """
    files, strangers = _entries(generation, under)
    if strangers:
        raise IndexCorrupt(f"index {generation.parent}: {strangers[0]}; run `goalsearch index --rebuild`")
    return {name: sha256_file(path) for name, path in files.items()}


def _entries(generation: Path, under: str = "") -> tuple[dict[str, Path], list[str]]:
    """The regular files of a generation (or of ``under``) but the manifest, by relative path, and a
    problem for each entry that is not a regular file or a folder; symlinks are listed, never followed."""
    root = generation / under if under else generation
    files: dict[str, Path] = {}
    strangers: list[str] = []

    def look(path: Path) -> None:
        name = str(path.relative_to(generation))
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            strangers.append(f"file {name} is a symlink (goalsearch never writes one in an index)")
        elif stat.S_ISREG(mode):
            if path.name != MANIFEST:
                files[name] = path
        elif not stat.S_ISDIR(mode):
            strangers.append(f"file {name} is not a regular file (a device, FIFO or socket)")

    if under:
        look(root)
    if root.is_dir() and not root.is_symlink():
        for folder, subfolders, names in os.walk(root):  # never into a symlinked folder
            for entry in sorted(subfolders) + sorted(names):
                look(Path(folder) / entry)
    return dict(sorted(files.items())), sorted(strangers)


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
    except UnicodeDecodeError:
        raise IndexCorrupt(f"index {index_dir}: CURRENT is not a generation name (garbage); "
                           "run `goalsearch index --rebuild`") from None
    except OSError as exc:
        raise IndexMissing(f"index {index_dir}: cannot read ({exc.strerror})") from None
    path = index_dir / name
    if not _GENERATION.fullmatch(name) or path.is_symlink() or not path.is_dir():
        raise IndexCorrupt(f"index {index_dir}: CURRENT names a missing generation {name!r}; run `goalsearch index --rebuild`")
    return path


def publish(index_dir: Path, work: Path, manifest: dict) -> Path:
    """Seal a finished working directory and make it the live generation atomically (under the write lock)."""
    manifest = dict(manifest, format_version=FORMAT_VERSION, checksums=checksums(work))
    write_json(work / MANIFEST, manifest)
    for path in work.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    final = index_dir / f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    previous = _live_or_none(index_dir)
    # Listed before it exists: a crash after the rename leaves a generation the next clean-up knows.
    known = [name for name in _ledger(index_dir) if previous is not None]
    known += [name for name in ((previous.name if previous else None), final.name) if name and name not in known]
    write_atomic(index_dir / LEDGER, json.dumps(known))
    os.replace(work, final)
    try:
        fsync_dir(index_dir)
        write_atomic(index_dir / CURRENT, final.name + "\n")
        fsync_dir(index_dir)
        _collect_garbage(index_dir, known, keep={final.name, previous.name if previous else ""})
    except KeyboardInterrupt:
        if _names(index_dir, final):
            raise InterruptedAfterPublish(f"interrupted after the new generation was published: index {index_dir} "
                                          "holds the new documents (what the clean-up left goes next time)") from None
        raise
    return final


def _live_or_none(index_dir: Path) -> Path | None:
    """The live generation, or None when ``CURRENT`` is missing or damaged: a rebuild (the only writer
    that gets here without reading it first) replaces a damaged pointer rather than failing on it."""
    try:
        return current_generation(index_dir)
    except (IndexCorrupt, IndexMissing):
        return None


def _names(index_dir: Path, generation: Path) -> bool:
    """Does ``CURRENT`` name ``generation``?"""
    try:
        return (index_dir / CURRENT).read_text("utf-8").strip() == generation.name
    except (OSError, ValueError):
        return False


def _ledger(index_dir: Path) -> list[str]:
    """The generations this index published, oldest first ([] when the list is missing or unreadable)."""
    try:
        names = json.loads((index_dir / LEDGER).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [n for n in names if isinstance(n, str) and _GENERATION.fullmatch(n)] if isinstance(names, list) else []


def _collect_garbage(index_dir: Path, known: list[str], keep: set[str]) -> None:
    """Remove killed writers' working folders and the listed generations no longer needed (see the module docstring)."""
    for path in index_dir.iterdir():
        if _WORK.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif _TEMP.fullmatch(path.name) and not path.is_symlink():
            path.unlink(missing_ok=True)  # a pointer or list file a killed writer did not rename
    still = []
    for name in known:
        path = index_dir / name
        if name in keep:
            still.append(name)
        elif path.is_dir() and not path.is_symlink() and not _remove_unpinned(path):
            still.append(name)  # a reader has it open: next time
    write_atomic(index_dir / LEDGER, json.dumps(still))


def _remove_unpinned(generation: Path) -> bool:
    """Remove a generation unless a reader holds it pinned; True if removed."""
    try:
        fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    try:
        shutil.rmtree(generation, ignore_errors=True)
    finally:
        os.close(fd)
    return True


def pin(generation: Path) -> int | None:
    """Keep ``generation`` from clean-up while the returned descriptor is open (a shared ``flock``
    on its folder; the kernel drops it when the process dies). None when the generation is gone."""
    try:
        fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a clean-up is removing it
    try:
        if os.stat(generation).st_ino == os.fstat(fd).st_ino:
            return fd
    except OSError:
        pass
    os.close(fd)  # removed while we waited
    return None


def unpin(fd: int | None) -> None:
    """Release a ``pin``."""
    if fd is not None:
        os.close(fd)


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
    manifest = _load_manifest(generation)
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


def _load_manifest(generation: Path) -> dict:
    """The manifest, parsed and checked against ``data/manifest.schema.json`` before anything uses it:
    ``[]``, ``"checksums": [1, 2]`` or an array nested 100,000 deep is one line naming the file."""
    def unreadable(why: str) -> IndexCorrupt:
        return IndexCorrupt(f"index {generation.parent}: file {MANIFEST} is damaged ({why}); run `goalsearch index --rebuild`")

    path = generation / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            raise FileNotFoundError(path) if not path.is_symlink() else unreadable("a symlink")
        if path.stat().st_size > data_json("limits.json")["store"]["manifest_mb"] << 20:
            raise unreadable("larger than any manifest goalsearch writes")
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"index {generation.parent}: file {MANIFEST} is missing; run `goalsearch index --rebuild`") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise unreadable(f"{type(exc).__name__}: {str(exc)[:80]}") from None
    problem = schema_problem("manifest", manifest)
    if problem:
        raise unreadable(problem)
    return manifest


def mismatches(generation: Path, manifest: dict) -> list[str]:
    """Every file of a generation that differs from the manifest: changed, missing, unlisted, or not a
    regular file (a symlink, a device: never opened)."""
    expected = manifest.get("checksums", {})
    files, strangers = _entries(generation)
    actual = {name: sha256_file(path) for name, path in files.items()}
    problems = list(strangers)
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            if not any(problem.startswith(f"file {name} is ") for problem in strangers):
                problems.append(f"file {name} is missing")
        elif name not in expected:
            problems.append(f"file {name} is not in the manifest")
        elif expected[name] != actual[name]:
            problems.append(f"file {name} does not match the manifest (changed or tampered)")
    return problems
