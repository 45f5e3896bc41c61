"""jieba's prefix dictionary in SQLite, looked up word by word instead of loaded at start.

jieba segments with ``FREQ`` (every dictionary word and every prefix of one, with its
count) and ``total``. Building that dict — from jieba's own marshal cache, plus the domain
dictionary and the user's words — takes about half a second, most of a cold
``goalsearch search`` on a small index, while segmenting a query reads a few hundred of its
600,000 entries. So the dict is written once to a SQLite file in the goalsearch home
(keyed by jieba's version, the domain dictionary and the user's words, written atomically)
and a query's tokenizer looks entries up as it needs them (``StoredFrequencies``),
remembering each. Segmentation is the same (same entries, same total); bulk work such as
indexing, which reads most of the dict, switches to the whole dict after ``WHOLE_AFTER``
lookups.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable

WHOLE_AFTER = 50_000  # lookups after which loading the whole dict is cheaper than going on
_MISSING = object()


class StoredFrequencies(dict):
    """jieba's ``FREQ`` read from SQLite on demand; lookups are remembered, misses too.

    jieba uses ``in``, ``get`` and ``[]`` on it (``Tokenizer.get_DAG``, ``calc``, ``tokenize``).
    """

    def __init__(self, database: sqlite3.Connection, tokenizer: Any, whole: Callable[[], Any]) -> None:
        super().__init__()
        self.database, self.tokenizer, self.whole = database, tokenizer, whole

    def _count(self, word: str) -> int | None:
        found = dict.get(self, word, _MISSING)
        if found is not _MISSING:
            return found
        if dict.__len__(self) >= WHOLE_AFTER:
            return self._switch_to_whole().get(word)
        try:
            row = self.database.execute("SELECT count FROM freq WHERE word = ?", (word,)).fetchone()
        except sqlite3.Error:  # a damaged cache file: segment with the whole dict instead
            return self._switch_to_whole().get(word)
        dict.__setitem__(self, word, row[0] if row else None)
        return row[0] if row else None

    def _switch_to_whole(self) -> dict:
        """Give the tokenizer the whole dict (the same entries) from now on."""
        self.tokenizer.FREQ = self.whole().FREQ
        return self.tokenizer.FREQ

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._count(word) is not None

    def __getitem__(self, word: str) -> int:
        count = self._count(word)
        if count is None:
            raise KeyError(word)
        return count

    def get(self, word: str, default: Any = None) -> Any:
        count = self._count(word)
        return default if count is None else count


def cache_path(home: Path, extra_words: tuple[str, ...], domain_words: str) -> Path:
    """The cache file of this jieba version, domain dictionary and user words."""
    import jieba

    key = json.dumps([jieba.__version__, domain_words, list(extra_words)], ensure_ascii=False)
    return home / "jieba" / f"dict-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}.sqlite"


def write_cache(path: Path, tokenizer: Any) -> None:
    """Write ``tokenizer``'s ``FREQ`` and ``total`` to ``path`` atomically (a temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with sqlite3.connect(temporary) as database:
            database.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID")
            database.execute("CREATE TABLE meta (total INTEGER NOT NULL)")
            database.executemany("INSERT INTO freq VALUES (?, ?)", tokenizer.FREQ.items())
            database.execute("INSERT INTO meta VALUES (?)", (tokenizer.total,))
        database.close()
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _open(path: Path) -> tuple[sqlite3.Connection, int]:
    database = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    database.execute("PRAGMA query_only = ON")
    (total,), = database.execute("SELECT total FROM meta").fetchall()
    return database, total


def stored_tokenizer(path: Path, whole: Callable[[], Any]) -> Any | None:
    """A jieba tokenizer over the cached dict at ``path``, written from ``whole()`` when missing
    or unreadable; None when it can be neither read nor written (then use ``whole()``)."""
    import jieba

    for rewrite in (not path.exists(), True):
        try:
            if rewrite:
                write_cache(path, whole())
            database, total = _open(path)
            break
        except (OSError, sqlite3.Error, ValueError):
            continue
    else:
        return None
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = StoredFrequencies(database, tokenizer, whole)
    tokenizer.total = total
    tokenizer.initialized = True
    return tokenizer
