"""The index a server process reads: one open ``GoalSearch``, swapped for the new generation when ``CURRENT`` moves.

Each worker process holds its own ``GoalSearch``; the term matrices and vectors are memory-mapped
``.npy`` files, so the workers share their pages through the page cache. ``GoalSearch`` keeps state
about its last query (``problems``, ``expansions``) and caches, so one request at a time uses it
(``LiveIndex.use`` holds a lock); several workers serve requests side by side.

A rebuild publishes a new generation and switches ``CURRENT``; the generation this process has
open stays pinned (``search.reader``), so it is never removed under a request. At the start of the
next request ``use`` sees that ``CURRENT`` names another generation, opens it, and closes the old one
once no request uses it: no restart, and no request fails. If the new generation cannot be opened
(a writer still cleaning up), the old one keeps serving and the next request tries again.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..search import GoalSearch, GoalsearchError

log = logging.getLogger("goalsearch.web")


class LiveIndex:
    """The open index of one server process, following ``CURRENT`` from request to request."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._index: GoalSearch | None = None

    def _pointer(self) -> str | None:
        """The generation name ``CURRENT`` holds now (None when unreadable)."""
        try:
            return (self.index_dir / "CURRENT").read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None

    def _refresh(self) -> GoalSearch:
        """The open index, reopened first when ``CURRENT`` names another generation (under the lock)."""
        index = self._index
        if index is not None and self._pointer() in (index.generation.name, None):
            return index
        try:
            fresh = GoalSearch.open(self.index_dir)
        except GoalsearchError:
            if index is None:
                raise
            log.warning("index %s changed but the new generation did not open; serving the old one", self.index_dir)
            return index
        if index is not None:
            log.info("index %s: now serving %s", self.index_dir, fresh.generation.name)
            index.close()
        self._index = fresh
        return fresh

    @contextmanager
    def use(self) -> Iterator[GoalSearch]:
        """The current index, for one request: nobody else uses it (or closes it) until the block ends."""
        with self._lock:
            yield self._refresh()

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
