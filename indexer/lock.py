"""A writer lock for the index directory that a killed process cannot leave stuck.

The lock file holds the writer's PID. A second writer gets IndexLocked naming that
PID; a lock whose PID is no longer alive is stale and is taken over.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import IndexLocked

LOCK_NAME = "LOCK"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text("utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock for the duration of the block."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _holder(path)
            if pid is not None and pid != os.getpid() and _alive(pid):
                raise IndexLocked(f"index {index_dir} is locked by PID {pid} (another goalsearch index is running); try again when it ends") from None
            path.unlink(missing_ok=True)  # stale: its writer is gone
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump({"pid": os.getpid()}, handle)
        break
    else:
        raise IndexLocked(f"index {index_dir}: cannot take the lock file {path}")
    try:
        yield
    finally:
        if _holder(path) == os.getpid():
            path.unlink(missing_ok=True)
