"""Cheap checks that the files of a generation agree, made where each file is read.

Hashing every file on every search would cost seconds at 100k records, so searching
checks what is cheap and what catches real damage:

- the manifest holds the record count and ``id_order``, a hash of the record ids in
  store order; the record store, the term matrices' ``keys.json`` and the vectors'
  ``vector_keys.json`` must each give the same hash when read, so rows can never be
  attached to the wrong record (a rotated ``vector_keys.json`` did exactly that);
- small files whose every byte matters (``keys.json``, ``vocabulary.json``,
  ``vector_keys.json``) are checked against their SHA-256 when read;
- large arrays are checked for shape (rows, columns, CSC pointers in range) and, for the
  vectors, for finite unit-length rows, which a flipped byte almost always breaks;
- any error while reading a file becomes ``IndexCorrupt`` naming the file and the fix.

``goalsearch check`` still hashes every file.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import tokenize
import zipfile  # the .npz term matrices of older generations
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import IndexCorrupt
from ..files import sha256_file

# What a reader of a damaged or hostile file can raise: numpy's header parser alone gives ValueError, OverflowError
# (a negative shape), MemoryError (a huge one), RecursionError (deep nesting, like json), and tokenize.TokenError or
# SyntaxError (a header whose bytes no longer close its dict: numpy tokenizes it before literal_eval).
READ_ERRORS = (OSError, ValueError, EOFError, KeyError, TypeError, IndexError, AttributeError, zipfile.BadZipFile,
               sqlite3.Error, ArithmeticError, MemoryError, RecursionError, tokenize.TokenError, SyntaxError)


def id_order(ids) -> str:
    """A hash of record ids in order: what every per-row file of a generation must agree on."""
    return hashlib.sha256("\n".join(ids).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def damaged(generation: Path, name: str, why: str) -> IndexCorrupt:
    """The one-line error for a damaged file of a generation."""
    return IndexCorrupt(f"index {generation.parent}: file {name} is damaged ({why}); "
                        "run `goalsearch index --rebuild`")


@contextmanager
def reading(generation: Path, name: str) -> Iterator[None]:
    """Turn any error while reading ``name`` into ``IndexCorrupt`` naming it."""
    try:
        yield
    except IndexCorrupt:
        raise
    except FileNotFoundError:
        raise damaged(generation, name, "missing") from None
    except READ_ERRORS as exc:
        raise damaged(generation, name, f"{type(exc).__name__}: {str(exc)[:80]}") from None


def verify_file(generation: Path, manifest: dict, name: str) -> None:
    """Check one file against its manifest checksum (when the manifest lists it)."""
    expected = manifest.get("checksums", {}).get(name)
    if expected is None:
        return
    with reading(generation, name):
        if sha256_file(generation / name) != expected:
            raise IndexCorrupt(f"index {generation.parent}: file {name} does not match the manifest "
                               "(changed or tampered); run `goalsearch index --rebuild`")


def check_ids(generation: Path, manifest: dict, name: str, ids: list[str]) -> None:
    """The rows of ``name`` must be the records', in the same order."""
    count = manifest.get("counts", {}).get("records")
    if count is not None and len(ids) != count:
        raise damaged(generation, name, f"{len(ids)} rows, the manifest says {count}")
    expected = manifest.get("id_order")
    if expected is not None and id_order(ids) != expected:
        raise damaged(generation, name, "its rows are not the records' ids in order")


def check_vectors(generation: Path, manifest: dict, name: str, rows: np.ndarray, count: int, whole: bool = False) -> None:
    """Rows of the vectors (a sample, or those a search read): finite floats, one unit-length vector of the
    model's dimension per view (``indexer.storage.vectors``: a row is its views' vectors side by side).
    ``whole``: ``rows`` is the whole (memory-mapped) array, whose shape must be ``count`` rows; only
    its shape is checked."""
    dimension = manifest.get("model", {}).get("dimension")
    views = len(manifest.get("vectors", {}).get("views", ("name_goal",)))  # indexes before views had one
    width = dimension * views if dimension else None
    if rows.ndim != 2 or (width and len(rows) and rows.shape[1] != width) or (whole and len(rows) != count):
        raise damaged(generation, name, f"shape {rows.shape}, expected ({count}, {width})")
    if whole:
        return
    if not len(rows):
        return
    parts = np.asarray(rows, dtype=np.float32).reshape(len(rows), views, -1) if width else np.asarray(rows)[:, None, :]
    with np.errstate(all="ignore"):  # a damaged float may overflow when squared: that is the finding, not a warning
        norms = np.linalg.norm(parts, axis=2)
    if not np.isfinite(norms).all() or not (np.abs(norms - 1.0) < 1e-3).all():
        raise damaged(generation, name, "rows that are not unit vectors")


# The kinds of counts a field's matrix may hold: unsigned integers as written, floats in older generations.
COUNT_KINDS = "uf"


def check_csc(generation: Path, name: str, indptr: np.ndarray, rows: np.ndarray, n_rows: int, n_columns: int,
              data: np.ndarray | None = None, data_name: str = "") -> None:
    """A CSC matrix's pointers must cover its row indices exactly, and rows must be in range; its arrays
    must be of integer (pointers, rows) types, and ``data``, the counts (in ``data_name``), unsigned
    integers (``terms.count_dtype``) or finite floats (generations written before them)."""
    if not _integers(indptr, rows):
        raise damaged(generation, name, "its arrays are not of the types goalsearch writes")
    if data is not None and (data.dtype.kind not in COUNT_KINDS or len(data) != len(rows)):
        raise damaged(generation, data_name or name, "its counts are not of the type or length goalsearch writes")
    if len(indptr) != n_columns + 1 or (len(indptr) and (indptr[0] != 0 or indptr[-1] != len(rows))) \
            or (len(indptr) > 1 and (np.diff(indptr) < 0).any()) or (len(rows) and (rows.min() < 0 or rows.max() >= n_rows)):
        raise damaged(generation, name, "its column pointers or row numbers are out of range")
    if data is not None and data.dtype.kind == "f" and not np.isfinite(data).all():
        raise damaged(generation, data_name or name, "counts that are not numbers")


# The arrays of a sum of BM25 weights (``term_weights.write_summed``), exactly as written.
POSTINGS_TYPES = {"indptr": np.dtype(np.int64), "rows": np.dtype(np.int32), "weights": np.dtype(np.float32),
                  "df": np.dtype(np.int32)}


def _integers(*arrays: np.ndarray) -> bool:
    return all(array.dtype.kind in "iu" for array in arrays)


def check_pointers(generation: Path, name: str, postings, n_columns: int) -> None:
    """Memory-mapped CSC arrays (``term_weights.Postings``) must be of the types written and agree in
    shape: pointers that cover the rows and weights exactly, one document frequency per column.

    Its row numbers and weights are not scanned (that would read every page of the file at open):
    a search meeting a row out of range or a weight that is not a number reports the file as damaged
    (``LexicalSide.rank``), and ``check`` scans them all (``check_postings``).
    """
    for array, dtype in POSTINGS_TYPES.items():
        if getattr(postings, array).dtype != dtype:
            raise damaged(generation, name.replace("*", array), f"{getattr(postings, array).dtype} values, "
                                                                f"goalsearch writes {dtype}")
    indptr = postings.indptr
    if (len(indptr) != n_columns + 1 or len(postings.df) != n_columns or len(postings.rows) != len(postings.weights)
            or (len(indptr) and (indptr[0] != 0 or indptr[-1] != len(postings.rows) or (np.diff(indptr) < 0).any()))):
        raise damaged(generation, name, "its column pointers do not match its rows")


def check_postings(generation: Path, name: str, postings, n_rows: int, block: int = 1 << 22) -> None:
    """Every row number in range and every weight a positive number (BM25 weights of fields with a
    positive boost are): what ``check`` adds to ``check_pointers``, reading the arrays in blocks."""
    for start in range(0, len(postings.rows), block):
        rows = np.asarray(postings.rows[start:start + block])
        weights = np.asarray(postings.weights[start:start + block])
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows):
            raise damaged(generation, name.replace("*", "rows"), "a row number is out of range")
        if not (np.isfinite(weights) & (weights > 0)).all():
            raise damaged(generation, name.replace("*", "weights"), "weights that are not positive numbers")


def load_json(generation: Path, manifest: dict, name: str):
    """A small JSON file of a generation, checked against its checksum first."""
    verify_file(generation, manifest, name)
    with reading(generation, name):
        return json.loads((generation / name).read_text("utf-8"))
