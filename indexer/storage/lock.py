"""A writer lock for the index directory that the operating system releases when its holder dies.

``fcntl.flock`` on the file ``LOCK``: the kernel keeps the lock for as long as the
holder's open file lives, so a killed writer (``kill -9`` included) never leaves the
index stuck, and two writers can never both hold it. The previous design read a PID
from the file and took over "stale" locks, which raced: a just-created, still-empty
lock file read as stale and two processes held it at once.

The holder writes its PID into the file only so that a refused writer can name it;
the PID is never used to decide anything. The file itself stays (deleting a flock'd
file would let a newcomer lock a fresh inode while the old holder still holds the
unlinked one).
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import IndexLocked

LOCK_NAME = "LOCK"


def _holder(fd: int) -> str:
    """The PID written by the holder, for the message only ('' when unreadable)."""
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace")
    except OSError:
        return ""
    digits = "".join(ch for ch in text if ch.isdigit())[:12]
    return digits


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock for the duration of the block; IndexLocked if another process holds it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_NAME
    try:
        # O_NOFOLLOW: a symlink planted as LOCK must not make us create or truncate a file elsewhere.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise IndexLocked(f"index {index_dir}: cannot open the lock file {path} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(fd)
            who = f"PID {pid}" if pid else "another process"
            raise IndexLocked(f"index {index_dir} is locked by {who} (another goalsearch index is running); "
                              "try again when it ends") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'{{"pid": {os.getpid()}}}\n'.encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # the name of a holder that has gone would mislead the next message
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
