"""Opening a SQLite file someone else may have written: its schema checked, every statement bounded.

A database file is data, but SQL stored in it runs inside our queries: a view, a trigger, a
generated column. A ``records.db`` whose ``meta`` was replaced by a recursive view hung every
command, ``check`` included. So a store is opened with ``PRAGMA trusted_schema=OFF``, its
``sqlite_master`` must hold exactly the tables and indexes we write (``check_schema``), and a
progress handler stops any statement that runs longer than ``store.statement_seconds``
(``data/limits.json``), which then ends as one line naming the file.
"""
from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from ..files import data_json
from .integrity import damaged

# SQLite names the automatic index of a PRIMARY KEY sqlite_autoindex_<table>_<n>.
_AUTOINDEX = re.compile(r"sqlite_autoindex_(\w+)_[0-9]+")


def store_limits() -> dict:
    """How long one statement on a record store may run (``store`` in ``data/limits.json``)."""
    return data_json("limits.json")["store"]


class BoundedConnection(sqlite3.Connection):
    """A connection whose statements each stop after ``bound`` seconds (``sqlite3.OperationalError:
    interrupted``): a progress handler, every 10,000 virtual-machine steps, compares the clock with
    the start of the statement, which ``execute`` records."""

    def bound(self, seconds: float) -> None:
        self._started = time.monotonic()
        self.set_progress_handler(lambda: time.monotonic() - self._started > seconds, 10_000)

    def execute(self, *args, **kwargs) -> sqlite3.Cursor:
        self._started = time.monotonic()
        return super().execute(*args, **kwargs)


def check_schema(connection: sqlite3.Connection, generation: Path, name: str, schema: str) -> None:
    """The database must hold the tables and indexes ``schema`` (our CREATE statements) makes, and
    nothing else: no view, no trigger (SQL in the file would run inside our queries)."""
    tables = frozenset(re.findall(r"CREATE TABLE (\w+)", schema))
    indexes = frozenset(re.findall(r"CREATE (?:UNIQUE )?INDEX (\w+)", schema))
    found = connection.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    for kind, entry, table in sorted(found, key=lambda row: row[0] in ("table", "index")):  # views, triggers first
        auto = _AUTOINDEX.fullmatch(entry or "")
        if kind == "table" and entry in tables or kind == "index" and (
                entry in indexes or auto and auto.group(1) == table and table in tables):
            continue
        raise damaged(generation, name, f"it holds a {kind} {str(entry)[:40]!r} goalsearch does not write")
    missing = tables - {entry for kind, entry, _ in found if kind == "table"}
    if missing:
        raise damaged(generation, name, f"no {min(missing)} table")
