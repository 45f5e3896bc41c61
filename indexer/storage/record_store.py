"""The record store of a generation: one SQLite database, read, never loaded.

At 100k records, reading ``records.jsonl`` and making 100k ``Record`` objects took 2.5 s
before the first query. ``records.db`` (stdlib ``sqlite3``) is opened read-only instead, and a
search materialises only its hits' records. It is written into the working folder before the
atomic publish, like every file of a generation, and checksummed in the manifest.

What is in it:

- ``records``: one row per record, ``row`` being its position in the id order shared with the
  term matrices and the vectors; the record as JSON (``data``) with the SHA-256 of that JSON
  (``digest``, checked whenever a record is read, so a flipped byte is an error, not a changed
  project; so are its fields' types, ``data/record.schema.json``), and the columns SQL looks up
  or sums: id, name, city, year, department, unit, category, amount, source, family. Indexed: id,
  name, family.
- ``aliases``: each record's other names (``find`` by alias).
- ``families``: every project family as JSON (``indexer.families``), members ordered by year.
- ``arrays``: the filter columns as numpy arrays, one blob each (city, department and unit
  as codes into ``facets``, year, amount, category codes, section bits). A filter is a few
  numpy comparisons over 100k values (< 1 ms); the same filters as SQL over indexed columns
  cost 1–20 ms, the broad ones most (``benchmarks/README.md``).
- ``meta``: the ids in row order (one blob), the record count, the store format, and the
  ``dictionary`` the records are compressed with.

The JSON of a record is stored deflated with a preset dictionary (format 2, ``record_codec``); a
store of format 1 (JSON as text) is read as before, and so is a row of text in either.

Opening reads ``meta`` only: the count and the ids' hash are compared with the manifest
(``integrity.check_ids``). ``goalsearch check`` runs SQLite's ``integrity_check`` and
hashes the file.

The file is data, never code: SQL in it (a view, a trigger, a default) would run inside every
query we make. So opening checks the schema first (the tables and indexes ``write_store``
makes, nothing else: a ``meta`` replaced by a recursive view hung every command), sets
``PRAGMA trusted_schema=OFF``, and bounds every statement by a progress handler
(``store.statement_seconds`` in ``data/limits.json``), so a file that slipped past still
ends in one line naming it.
"""
from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .integrity import damaged, reading
from .record_codec import Inflater, deflater, dictionary_of
from .schemas import schema_problem
from .sqlite_guard import BoundedConnection, check_schema, store_limits
from ..records import SECTION_LABELS, Record, city_label

RECORD_DB = "records.db"
FORMAT = 2  # 1: records as JSON text; 2: deflated with the ``dictionary`` in ``meta`` (read: both)
READ_FORMATS = (1, 2)
FACETS = ("city", "department", "unit", "category", "kind")
SECTIONS = tuple(SECTION_LABELS)  # bit i of the ``sections`` array: the record is in SECTIONS[i]

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value);
CREATE TABLE records(row INTEGER PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, city TEXT, year INTEGER,
                     department TEXT NOT NULL, unit TEXT NOT NULL, category TEXT NOT NULL, amount REAL,
                     source TEXT NOT NULL, family TEXT, data TEXT NOT NULL, digest TEXT NOT NULL);
CREATE TABLE aliases(alias TEXT NOT NULL, row INTEGER NOT NULL);
CREATE TABLE families(id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE facets(kind TEXT NOT NULL, code INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY(kind, code));
CREATE TABLE arrays(name TEXT PRIMARY KEY, dtype TEXT NOT NULL, data BLOB NOT NULL);
"""
_INDEXES = """
CREATE UNIQUE INDEX records_id ON records(id);
CREATE INDEX records_name ON records(name);
CREATE INDEX records_family ON records(family);
CREATE INDEX aliases_alias ON aliases(alias);
"""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def write_store(path: Path | str, records: list[Record], families: Iterable | None = None) -> None:
    """Write ``records`` (in id order) and their ``families`` (``indexer.families.Family``) to a new database.

    ``path`` may be ``":memory:"``-like only through ``RecordStore.from_records``. SQLite's own errors
    ("database or disk is full") are raised as ``OSError`` naming the file, as any other failed write
    of the generation is, so the build reports them in one line and publishes nothing.
    """
    try:
        connection = sqlite3.connect(str(path))
        try:
            _fill(connection, records, families)
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise OSError(f"{Path(path).name}: {exc}") from None


def _fill(connection: sqlite3.Connection, records: list[Record], families: Iterable | None) -> None:
    connection.execute("PRAGMA journal_mode=OFF")  # a new file in an unpublished folder: nothing to roll back
    connection.execute("PRAGMA synchronous=OFF")  # publish fsyncs every file of the generation
    connection.executescript(_SCHEMA)
    family_of = {}
    family_rows = []
    for family in families or ():
        family_rows.append((family.id, json.dumps(family.to_dict(), ensure_ascii=False, separators=(",", ":"))))
        family_of.update((member, family.id) for member in family.members)
    texts = [json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) for record in records]
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    dictionary = dictionary_of(encoded)
    deflate = deflater(dictionary)
    rows = []
    for row, (record, text, data) in enumerate(zip(records, texts, encoded)):
        rows.append((row, record.id, record.name, city_label(record.city), record.year, record.department, record.unit,
                     record.category, record.amount, record.source, family_of.get(record.id), deflate(data),
                     _digest(text)))
    with connection:
        connection.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        connection.executemany("INSERT INTO aliases VALUES (?,?)",
                               ((alias, row) for row, record in enumerate(records) for alias in record.aliases))
        connection.executemany("INSERT INTO families VALUES (?,?)", family_rows)
        for kind, values in _facets(records).items():
            connection.executemany("INSERT INTO facets VALUES (?,?,?)", ((kind, code, v) for code, v in enumerate(values)))
        for name, array in _arrays(records).items():
            connection.execute("INSERT INTO arrays VALUES (?,?,?)", (name, array.dtype.str, array.tobytes()))
        connection.executemany("INSERT INTO meta VALUES (?,?)", [
            ("format", FORMAT), ("count", len(records)), ("families", len(family_rows)), ("dictionary", dictionary),
            ("ids", "\n".join(r.id for r in records).encode("utf-8", "surrogatepass"))])
        connection.executescript(_INDEXES)


def _facet_value(record: Record, kind: str) -> str:
    return (city_label(record.city) or "") if kind == "city" else getattr(record, kind) or ""


def _facets(records: list[Record]) -> dict[str, list[str]]:
    """Each facet's distinct values, most frequent first (ties by value): the codes of the arrays."""
    found = {}
    for kind in FACETS:
        counts = Counter(_facet_value(r, kind) for r in records)
        found[kind] = sorted(counts, key=lambda v: (-counts[v], v))
    return found


def _arrays(records: list[Record]) -> dict[str, np.ndarray]:
    """The filter columns, row-aligned: facet codes, year (-1: none), amount (NaN: none), section bits."""
    arrays = {}
    for kind, values in _facets(records).items():
        code = {v: i for i, v in enumerate(values)}
        arrays[kind] = np.array([code[_facet_value(r, kind)] for r in records], dtype=np.int32)
    arrays["year"] = np.array([r.year if r.year is not None else -1 for r in records], dtype=np.int32)
    arrays["amount"] = np.array([r.amount if r.amount is not None else np.nan for r in records], dtype=np.float64)
    bit = {name: 1 << i for i, name in enumerate(SECTIONS)}
    arrays["sections"] = np.array([sum(bit.get(s, 0) for s in set(r.sections)) for r in records], dtype=np.uint8)
    return arrays


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


class RecordStore:
    """A read-only view of one generation's ``records.db``: records by row or id, filter columns, families.

    Every read error becomes ``IndexCorrupt`` naming the file.
    """

    def __init__(self, connection: sqlite3.Connection, generation: Path, name: str = RECORD_DB) -> None:
        self._db = connection
        self.generation = generation
        self.name = name
        with self.reading():
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
            if meta.get("format") not in READ_FORMATS:
                raise damaged(generation, name, f"store format {meta.get('format')!r}, expected {FORMAT}")
            dictionary = meta.get("dictionary", b"")
            if not isinstance(dictionary, bytes):
                raise damaged(generation, name, "its dictionary is not bytes")
            self._inflate = Inflater(dictionary)
            ids = meta["ids"]
            self.ids: list[str] = ids.decode("utf-8", "surrogatepass").split("\n") if ids else []
            self.count = int(meta["count"])
            self.family_count = int(meta.get("families", 0))
        if len(self.ids) != self.count:
            raise damaged(generation, name, f"{len(self.ids)} ids for {self.count} records")
        self.row = {doc_id: i for i, doc_id in enumerate(self.ids)}
        self._arrays: dict[str, np.ndarray] = {}
        self._facets: dict[str, list[str]] = {}

    @classmethod
    def open(cls, generation: Path, name: str = RECORD_DB) -> "RecordStore":
        """Open ``generation/name`` read-only (``immutable``: a published generation never changes,
        so SQLite takes no locks and writes no journal, even on a read-only disk)."""
        path = generation / name
        if not path.is_file():
            raise damaged(generation, name, "missing")
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        with reading(generation, name):
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=BoundedConnection)
            try:
                connection.bound(store_limits()["statement_seconds"])
                connection.execute("PRAGMA query_only=1")
                connection.execute("PRAGMA trusted_schema=OFF")
                check_schema(connection, generation, name, _SCHEMA + _INDEXES)
            except BaseException:
                connection.close()
                raise
        return cls(connection, generation, name)

    @classmethod
    def from_records(cls, records: list[Record], families: Iterable | None, generation: Path,
                     name: str) -> "RecordStore":
        """A store in memory, for a generation written before ``records.db`` existed."""
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        _fill(connection, records, families)
        return cls(connection, generation, name)

    def close(self) -> None:
        self._db.close()

    def reading(self):
        return reading(self.generation, self.name)

    def _query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with self.reading():
            return self._db.execute(sql, parameters).fetchall()

    # -- records -------------------------------------------------------------------
    def __len__(self) -> int:
        return self.count

    def _text(self, row: int, data: str | bytes) -> str:
        """A stored record's JSON: as stored (text), or inflated (format 2's BLOB)."""
        if isinstance(data, str):
            return data
        text = self._inflate(data)
        if text is None:
            raise damaged(self.generation, self.name, f"record of row {row} does not match its checksum")
        return text

    def _record(self, row: int, data: str | bytes, digest: str) -> Record:
        """A stored record, checked: its JSON must hash to its digest and hold the id of its row."""
        data = self._text(row, data)
        if _digest(data) != digest:
            raise damaged(self.generation, self.name, f"record of row {row} does not match its checksum")
        with self.reading():
            stored = json.loads(data, parse_constant=_no_constant)  # NaN, Infinity: never written by us
            problem = schema_problem("record", stored)
            if problem:  # fields of other types (a number for a name) would crash whatever reads them next
                raise damaged(self.generation, self.name, f"record of row {row}: {problem}")
            record = Record.from_dict(stored)
        if not (0 <= row < self.count) or record.id != self.ids[row]:
            raise damaged(self.generation, self.name, f"row {row} holds another record")
        return record

    def _columns_of(self, columns: str, rows: list[int]) -> dict[int, list]:
        """``columns`` of ``records`` by row, for these rows (SQLite takes 500 parameters a statement here)."""
        found: dict[int, list] = {}
        for start in range(0, len(rows), 500):
            part = rows[start:start + 500]
            marks = ",".join("?" * len(part))
            for row, *values in self._query(f"SELECT row, {columns} FROM records WHERE row IN ({marks})", tuple(part)):
                found[row] = values
        return found

    def names_at(self, rows: Iterable[int]) -> dict[int, str]:
        """The names of these rows (a ranking checks which names hold a query without reading records)."""
        return {row: values[0] for row, values in self._columns_of("name", [int(r) for r in rows]).items()}

    def at_rows(self, rows: Iterable[int]) -> list[Record]:
        """The records of these rows, in the order given."""
        return [record for record, _ in self.with_families(rows)]

    def with_families(self, rows: Iterable[int]) -> list[tuple[Record, str | None]]:
        """The records of these rows and their family ids, in the order given (one query: a page of hits)."""
        rows = [int(r) for r in rows]
        found = self._columns_of("data, digest, family", rows)
        missing = [r for r in rows if r not in found]
        if missing:
            raise damaged(self.generation, self.name, f"no record at row {missing[0]}")
        return [(self._record(r, found[r][0], found[r][1]), found[r][2]) for r in rows]

    def get(self, record_id: str) -> Record | None:
        """The record with this id, or None."""
        row = self.row.get(record_id)
        return self.at_rows([row])[0] if row is not None else None

    def __iter__(self) -> Iterator[Record]:
        """Every record in row order (reads them all: for building, duplicates and tests, not searching)."""
        with self.reading():
            cursor = self._db.execute("SELECT row, data, digest FROM records ORDER BY row")
            rows = cursor.fetchall()
        if len(rows) != self.count:
            raise damaged(self.generation, self.name, f"{len(rows)} records, its index says {self.count}")
        return (self._record(row, data, digest) for row, data, digest in rows)

    def with_prefix(self, prefix: str) -> list[str]:
        """The ids starting with ``prefix``."""
        return [i for i in self.ids if i.startswith(prefix)]

    def named(self, name: str) -> list[Record]:
        """Records whose name or an alias is exactly ``name``, else whose name contains it."""
        rows = [r for (r,) in self._query("SELECT row FROM records WHERE name = ? UNION SELECT row FROM aliases "
                                          "WHERE alias = ? ORDER BY 1", (name, name))]
        if not rows and name:
            rows = [r for (r,) in self._query("SELECT row FROM records WHERE instr(name, ?) > 0 ORDER BY row", (name,))]
        return self.at_rows(rows)

    def by_amount(self, allowed: np.ndarray | None, limit: int) -> list[tuple[Record, str | None]]:
        """The ``limit`` records of the largest amounts among ``allowed`` rows (ties in row order), each with its
        family id (a listing shows the family as a ranked search does)."""
        amount = np.nan_to_num(self.array("amount"), nan=0.0)
        rows = np.arange(self.count) if allowed is None else np.flatnonzero(allowed)
        negated = -amount[rows]
        if limit < len(rows):  # sort only the rows at least as large as the limit-th (ties included)
            near = negated <= np.partition(negated, limit - 1)[limit - 1]
            rows, negated = rows[near], negated[near]
        order = np.lexsort((rows, negated))[:limit]
        return self.with_families(rows[order])

    def families_of(self, rows: Iterable[int]) -> dict[int, str | None]:
        """The family id of each row."""
        return {row: values[0] for row, values in self._columns_of("family", [int(r) for r in rows]).items()}

    def rows_of_family(self, family_id: str) -> list[int]:
        return [r for (r,) in self._query("SELECT row FROM records WHERE family = ?", (family_id,))]

    def families(self) -> list[dict]:
        """Every stored family as a dict (``Family.from_dict``)."""
        with self.reading():
            return [json.loads(data) for (data,) in self._db.execute("SELECT data FROM families ORDER BY rowid")]

    def family(self, family_id: str) -> dict | None:
        found = self._query("SELECT data FROM families WHERE id = ?", (family_id,))
        with self.reading():
            return json.loads(found[0][0]) if found else None

    def family_ids(self, prefix: str) -> list[str]:
        return [i for (i,) in self._query("SELECT id FROM families WHERE id >= ? AND id < ? ORDER BY id",
                                          (prefix, prefix + "\U0010ffff"))]

    # -- filter columns and aggregates -----------------------------------------------
    def array(self, name: str) -> np.ndarray:
        """A filter column (``_arrays``), read on first use."""
        if name not in self._arrays:
            found = self._query("SELECT dtype, data FROM arrays WHERE name = ?", (name,))
            if not found:
                raise damaged(self.generation, self.name, f"no {name} column")
            with self.reading():
                array = np.frombuffer(found[0][1], dtype=np.dtype(found[0][0]))
            if len(array) != self.count:
                raise damaged(self.generation, self.name, f"its {name} column has {len(array)} rows, not {self.count}")
            if array.dtype.kind == "f" and np.isinf(array).any():  # NaN is "no amount"; an infinity is no amount at all
                raise damaged(self.generation, self.name, f"its {name} column holds an infinity")
            self._arrays[name] = array
        return self._arrays[name]

    def has_column(self, name: str) -> bool:
        """Does the store have this filter column (``kind`` is missing from stores written before forms)?"""
        return name in self._arrays or bool(self._query("SELECT 1 FROM arrays WHERE name = ?", (name,)))

    def facet(self, kind: str) -> list[str]:
        """The distinct values of a facet (city, department, unit, category), most frequent first."""
        if kind not in self._facets:
            values = [v for (v,) in self._query("SELECT value FROM facets WHERE kind = ? ORDER BY code", (kind,))]
            codes = self.array(kind)
            if len(codes) and (codes.min() < 0 or codes.max() >= len(values)):
                raise damaged(self.generation, self.name, f"its {kind} codes are out of range")
            self._facets[kind] = values
        return self._facets[kind]

    def counts(self, column: str) -> list[tuple[object, int, float]]:
        """(value, records, sum of amounts) per value of a column, most records first, then by value."""
        if column not in ("city", "year", "department", "unit", "category", "source"):
            raise ValueError(column)
        found = [(value, count, total or 0.0) for value, count, total in self._query(
            f"SELECT {column}, count(*), sum(amount) FROM records GROUP BY {column} ORDER BY 2 DESC, 1")]
        if not all(isinstance(total, (int, float)) and math.isfinite(total) for _, _, total in found):
            raise damaged(self.generation, self.name, "its amounts are not all finite numbers")
        return found

    def total_amount(self) -> float:
        total = self._query("SELECT total(amount) FROM records")[0][0]
        if not math.isfinite(total):
            raise damaged(self.generation, self.name, "its amounts are not all finite numbers")
        return total

    def integrity_problems(self) -> list[str]:
        """SQLite's own check of the file (reads every page: ``goalsearch check``)."""
        try:
            found = [message for (message,) in self._db.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            return [f"file {self.name} is damaged ({exc})"]
        return [] if found == ["ok"] else [f"file {self.name} is damaged ({'; '.join(found[:3])})"]

