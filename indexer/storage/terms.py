"""Per-field term counts of every record: the matrices plain BM25 queries are ranked with.

Whoosh answers queries with syntax (fields, phrases, AND/OR), but its pure-Python
union over common words (系统, 服务, 中心) costs a second and more per long query at
100k records. The same jieba tokens, counted into one sparse matrix per field
(records × vocabulary), let search score a plain query with a few numpy slices, as
bm25s does (Lù, 2024, "BM25S: Orders of magnitude faster lexical search via eager
sparse scoring").

Beside the jieba fields, ``name_ngrams`` (name and aliases) and ``goal_ngrams`` count
character unigrams and bigrams (``ngrams``): they match what jieba segments differently
in the query and in the document.

Files in ``terms/`` of a generation, none pickled: ``vocabulary.json`` (the term of each
column, shared by all fields), ``keys.json`` (record id and content hash of each row, in
record-store order), ``<field>.{indptr,indices,data}.npy`` (a CSC matrix of counts, so one
term's postings are one slice; plain ``.npy`` so that searching memory-maps them, where the
``.npz`` of older generations had to be inflated; the counts in the narrowest unsigned type
that holds the field's largest, ``count_dtype``: uint8 for every field of the synthetic 100k,
a quarter of the float32 older generations hold, which are read alike), or for a field holding
most of its kind's pairs ``<kind>.<field>.counts.npy``, its counts aligned with the summed
postings (``term_counts``, where that is smaller), and the fields' BM25 weights summed with
their boosts (``term_weights``), which plain queries are ranked with.
A rebuild reuses the rows whose hash the previous generation has, so re-indexing
unchanged files tokenizes nothing.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from .field_tokens import FieldTokens
from .integrity import reading
from .fulltext import TEXT_FIELDS, field_texts
from ..analysis.ngrams import char_grams
from ..records import Record
from .term_counts import FieldCounts, aligned_counts, aligned_file, smaller_aligned
from .term_weights import KINDS, NGRAM_FIELDS, field_boosts, field_postings, summed, write_summed

TERMS = "terms"
VOCABULARY = "vocabulary.json"
KEYS = "keys.json"
TERM_FIELDS = TEXT_FIELDS + NGRAM_FIELDS
COUNT_ARRAYS = ("indptr", "indices", "data")
KIND_OF = {field: kind for kind, fields in KINDS.items() for field in fields}  # the summed postings a field is in


def ngram_texts(record: Record) -> dict[str, str]:
    """The text of each n-gram field of a record."""
    return {"name_ngrams": " ".join([record.name, *record.aliases]), "goal_ngrams": record.goal}


def terms_hash(record: Record, extra_words: tuple[str, ...]) -> str:
    """What a row of counts depends on: the field texts and the user dictionary."""
    payload = json.dumps([field_texts(record), list(extra_words), TERM_FIELDS], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def count_file(field: str, part: str) -> str:
    """The file of one array (``COUNT_ARRAYS``) of a field's count matrix, in ``terms/``."""
    return f"{field}.{part}.npy"


def count_dtype(largest: int) -> np.dtype:
    """The narrowest unsigned type that holds every count up to ``largest`` (a count is at least 1).

    Counts are whole numbers, and every type here converts to float32 exactly, so BM25 weights made from
    them are the float32 counts' to the bit (``term_weights.bm25_weights`` converts first)."""
    return next(np.dtype(kind) for kind in (np.uint8, np.uint16, np.uint32) if largest <= np.iinfo(kind).max)


def read_counts(folder: Path, field: str, generation: Path | None = None) -> FieldCounts | None:
    """A field's count matrix (``term_counts.FieldCounts``: ``indptr``, ``indices``, ``data`` as a CSC
    matrix's, ``files``: the files of its rows and counts), memory-mapped: from its own CSC files, from
    counts aligned with its kind's summed postings, or from the ``.npz`` of a generation written before
    the ``.npy`` files; None if absent.

    Given the ``generation``, an unreadable file is ``IndexCorrupt`` naming it.
    """
    def named(name: str):
        return reading(generation, f"{TERMS}/{name}") if generation is not None else nullcontext()

    def load(name: str) -> np.ndarray:
        with named(name):
            return np.load(folder / name, mmap_mode="r", allow_pickle=False)

    if (folder / count_file(field, "indptr")).exists():
        return FieldCounts(*(load(count_file(field, part)) for part in COUNT_ARRAYS),
                           files=(count_file(field, "indices"), count_file(field, "data")))
    kind = KIND_OF.get(field)
    if kind is not None and (folder / aligned_file(kind, field)).exists():
        return FieldCounts(kind=(load(f"{kind}.indptr.npy"), load(f"{kind}.rows.npy")), counts=load(aligned_file(kind, field)),
                           generation=generation, files=(f"{kind}.rows.npy", aligned_file(kind, field)))
    if (folder / f"{field}.npz").exists():
        with named(f"{field}.npz"), np.load(folder / f"{field}.npz", allow_pickle=False) as stored:
            return FieldCounts(*(stored[part] for part in COUNT_ARRAYS), files=(f"{field}.npz", f"{field}.npz"))
    return None


def load_terms(generation: Path) -> tuple[list[str], list[dict], dict] | None:
    """The vocabulary, row keys and per-field count matrices (CSC) of a generation; None if it has none."""
    from scipy import sparse

    folder = generation / TERMS
    if not (folder / KEYS).exists():
        return None
    vocabulary = json.loads((folder / VOCABULARY).read_text("utf-8"))
    keys = json.loads((folder / KEYS).read_text("utf-8"))
    matrices = {}
    for field in TERM_FIELDS:
        counts = read_counts(folder, field)
        if counts is not None:
            matrices[field] = sparse.csc_matrix((np.asarray(counts.data, dtype=np.float32), np.asarray(counts.indices),
                                                 np.asarray(counts.indptr)),
                                                shape=(len(keys), len(vocabulary)))
    return vocabulary, keys, matrices


def write_terms(directory: Path, records: list[Record], extra_words: tuple[str, ...],
                previous: Path | None = None, tokens: FieldTokens | None = None) -> int:
    """Write the term matrices of ``records`` into ``directory/terms``; returns how many rows were tokenized.

    ``tokens`` gives the words the full-text writer already cut (``field_tokens``).
    """

    tokens = tokens or FieldTokens(extra_words, len(records))
    old = load_terms(previous) if previous is not None else None
    columns: dict[str, int] = {}
    old_row: dict[str, int] = {}
    old_rows = {field: None for field in TERM_FIELDS}
    if old is not None:
        vocabulary, keys, matrices = old
        columns = {term: i for i, term in enumerate(vocabulary)}
        old_row = {key["hash"]: i for i, key in enumerate(keys)}
        old_rows = {field: matrix.tocsr() for field, matrix in matrices.items()}
    hashes = [terms_hash(r, extra_words) for r in records]
    triplets = Triplets(TERM_FIELDS)
    reused: list[tuple[int, int]] = []  # (new row, old row)
    tokenized = 0
    for row, (record, digest) in enumerate(zip(records, hashes)):
        if digest in old_row:
            reused.append((row, old_row[digest]))
            continue
        tokenized += 1
        fields = dict(tokens.words(record))
        fields.update({field: char_grams(text) for field, text in ngram_texts(record).items()})
        for field, words in fields.items():
            cols, values = triplets.lists(field)
            counted = Counter(words)
            for term, count in counted.items():
                cols.append(columns.setdefault(term, len(columns)))
                values.append(count)
            triplets.row_done(field, row, len(counted))
        triplets.compact_full()
    shape = (len(records), len(columns))
    matrices = {}
    for field in TERM_FIELDS:
        rows, cols, values = triplets.take(field)
        if reused and old_rows.get(field) is not None:
            new_at, old_at = (np.asarray(part, dtype=np.int64) for part in zip(*reused))
            kept = old_rows[field][old_at].tocoo()
            rows = np.concatenate([rows, new_at[kept.row]])
            cols = np.concatenate([cols, kept.col])
            values = np.concatenate([values, kept.data])
        matrices[field] = _csc(rows, cols, values, shape)
        del rows, cols, values  # before the next field's are joined: at 1M records, gigabytes each
    matrices, vocabulary = _drop_unused(matrices, sorted(columns, key=columns.get))
    folder = directory / TERMS
    folder.mkdir()
    for matrix in matrices.values():
        matrix.sort_indices()
    kinds = {}
    for kind, fields in KINDS.items():  # one kind's weights at a time: a float32 a posting, gigabytes at 1M records
        weights = {field: field_postings(matrices[field], len(records)) for field in fields if field in matrices}
        kinds.update(summed(weights, field_boosts(), len(records), len(vocabulary), (kind,), scale_in_place=True))
        del weights
    write_summed(folder, kinds, field_boosts())
    for field, matrix in matrices.items():
        _write_counts(folder, field, matrix, kinds.get(KIND_OF.get(field)), len(records))
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), "utf-8")
    (folder / KEYS).write_text(json.dumps([{"id": r.id, "hash": h} for r, h in zip(records, hashes)]), "utf-8")
    return tokenized


class Triplets:
    """Each field's (row, column, count) triplets, compacted to small arrays as they come (issue #32).

    Python lists cost 24 bytes a posting and the int64 arrays made of them another 24: at a million
    records (~510M postings) the term stage alone outgrew the machine. Rows come in order, so a field
    keeps one (row, how many) pair per record rather than a row per posting; every ``block`` postings
    its columns become int32 and its counts the narrowest type that holds them (``count_dtype``):
    5 bytes a posting where 12 were held. ``take`` makes the three arrays and forgets them.
    """

    BLOCK = 1 << 20  # postings of a field kept as Python lists before they become arrays

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.block = self.BLOCK
        self._lists = {field: ([], []) for field in fields}
        self._rows = {field: ([], []) for field in fields}  # row, postings it has
        self._arrays: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {field: [] for field in fields}

    def lists(self, field: str) -> tuple[list[int], list[int]]:
        """The lists ``field``'s next columns and counts are appended to (the caller's loop is the build's hottest)."""
        return self._lists[field]

    def row_done(self, field: str, row: int, postings: int) -> None:
        """Say that the last ``postings`` appended to ``field`` are ``row``'s (rows come in increasing order)."""
        if postings:
            self._rows[field][0].append(row)
            self._rows[field][1].append(postings)

    def compact_full(self) -> None:
        """Turn every field's lists that hold ``block`` postings or more into arrays."""
        for field, lists in self._lists.items():
            if len(lists[0]) >= self.block:
                self._compact(field)

    def _compact(self, field: str) -> None:
        cols, counts = self._lists[field]
        if cols:
            counts = np.array(counts, dtype=np.int64)
            self._arrays[field].append((np.array(cols, dtype=np.int32), counts.astype(count_dtype(int(counts.max())))))
            self._lists[field] = ([], [])

    def take(self, field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``field``'s rows, columns (int32) and counts (``count_dtype``) in the order added, forgotten here."""
        self._compact(field)
        blocks = [list(block) for block in self._arrays.pop(field)]
        del self._lists[field]
        row_ids, lengths = self._rows.pop(field)
        rows = np.repeat(np.array(row_ids, dtype=np.int32), np.array(lengths, dtype=np.int64))
        del row_ids, lengths
        joined = [rows]
        for part in range(2):  # each part's blocks are let go once joined: the field is not held twice
            joined.append(np.concatenate([block[part] for block in blocks]) if blocks
                          else np.zeros(0, np.int32 if part == 0 else np.uint8))
            for block in blocks:
                block[part] = None
        return tuple(joined)


def _csc(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, shape: tuple[int, int]):
    """The CSC matrix (counts in ``count_dtype``) of triplets with no repeated (row, column), as scipy would make it.

    scipy's COO-to-compressed conversion is a counting sort by column (``coo_tocsr``): stable, so each
    column's rows keep the order they came in, and it allocates only the result (the largest field at a
    million records has ~340M postings; an argsort held 8 more bytes a posting and its own buffer).
    """
    from scipy import sparse

    counts = counts.astype(count_dtype(int(counts.max()) if len(counts) else 0), copy=False)  # 1–2 bytes, not float32's 4
    return sparse.coo_matrix((counts, (rows, cols)), shape=shape).tocsc()  # int32 indices while they fit


def _write_counts(folder: Path, field: str, matrix, kind, n_records: int) -> None:
    """A field's counts (``count_dtype``): aligned with its kind's summed postings where that is smaller
    (``term_counts``), else as its own CSC files."""
    dtype = count_dtype(int(matrix.data.max()) if matrix.nnz else 0)
    if kind is not None and matrix.nnz and smaller_aligned(matrix.nnz, len(kind.rows), dtype):
        counts = aligned_counts(kind.indptr, kind.rows, matrix, n_records, dtype)
        if counts is not None:
            np.save(folder / aligned_file(KIND_OF[field], field), counts, allow_pickle=False)
            return
    for part in COUNT_ARRAYS:
        array = matrix.data.astype(dtype) if part == "data" else getattr(matrix, part)
        np.save(folder / count_file(field, part), array, allow_pickle=False)


def _drop_unused(matrices: dict, vocabulary: list[str]) -> tuple[dict, list[str]]:
    """Remove the columns no record uses any more (terms of replaced files)."""
    used = np.zeros(len(vocabulary), dtype=bool)
    for matrix in matrices.values():
        used |= np.diff(matrix.indptr) > 0
    if used.all():
        return matrices, vocabulary
    keep = np.flatnonzero(used)
    return {field: matrix[:, keep] for field, matrix in matrices.items()}, [vocabulary[i] for i in keep]
