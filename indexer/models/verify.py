"""Is the converted model in the home the one its conversion wrote? For ``check``, ``model build`` and every load.

A conversion records the size and SHA-256 of each file it wrote (``goalsearch_model.json``'s ``files``,
``onnx/goalsearch_onnx.json``'s ``files``). A truncated ``model_qint8.onnx`` or ``tokenizer.json`` made
every ``index`` crash while ``check`` and ``model build`` said all was well: now ``check`` hashes the
files the index's backend uses, ``model build`` converts again what differs, and a load compares sizes
(free) and turns a file its library cannot read into one line. A conversion by an older goalsearch
recorded no checksums: its files are checked by loading them.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..errors import GoalsearchError
from ..files import sha256_file

REPAIR = "run `goalsearch model build` to convert it again"


class ModelDamaged(GoalsearchError):
    """A file of the converted model in the home is missing or not what the conversion wrote."""


def recorded(marker: Path) -> dict | None:
    """The ``files`` a conversion marker records (None: none recorded, or no readable marker)."""
    try:
        files = json.loads(marker.read_text("utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    return files if isinstance(files, dict) else None


def file_problems(folder: Path, files: dict, full: bool = True) -> list[str]:
    """Each file of ``files`` under ``folder`` that is missing, of another size, or (``full``) of another hash."""
    problems = []
    for name, expected in files.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            problems.append(f"model file {path} is missing; {REPAIR}")
            continue
        if not isinstance(expected, dict) or size != expected.get("size"):
            problems.append(f"model file {path} is damaged ({size:,} bytes, the conversion wrote "
                            f"{expected.get('size', 0) if isinstance(expected, dict) else 0:,}); {REPAIR}")
        elif full and _sha256(path) != expected.get("sha256"):
            problems.append(f"model file {path} is damaged (not the bytes the conversion wrote); {REPAIR}")
    return problems


def _sha256(path: Path) -> str:
    """A file's SHA-256, hashed once per process while its inode, size and mtime stay (``check`` of many
    indexes, or ``model build`` after ``check``, hashes 0.9 GB once)."""
    info = path.stat()
    return _hashed(str(path), info.st_ino, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=64)
def _hashed(path: str, inode: int, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))


def folder_problems(folder: Path, full: bool = True) -> list[str]:
    """The converted sentence-transformers folder's damaged files (an older conversion: its tokenizer, loaded)."""
    files = recorded(folder / "goalsearch_model.json")
    if files is not None:
        return file_problems(folder, files, full)
    return loading_problems(folder / "tokenizer.json", _load_tokenizer) if full else []


def onnx_problems(target: Path, load, full: bool = True) -> list[str]:
    """The ONNX file's damage (an older export: the file, opened by ``load``). [] when not exported yet."""
    files = recorded(target.parent / "goalsearch_onnx.json")
    if files is not None and target.name in files:
        return file_problems(target.parent, {target.name: files[target.name]}, full)
    if not target.exists():
        return []
    return loading_problems(target, load) if full else []


def loading_problems(path: Path, load) -> list[str]:
    """[] when ``load(path)`` works, else one line naming the file."""
    try:
        load(path)
    except Exception as exc:  # noqa: BLE001 - tokenizers and onnxruntime raise their own types
        return [unreadable(path, exc)]
    return []


def unreadable(path: Path, exc: Exception) -> str:
    """One line for a model file its library could not read (libraries raise what they like, over many lines)."""
    first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    return f"model file {path} cannot be read ({first}); {REPAIR}"


def _load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))
