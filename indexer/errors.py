"""One exception family for everything a user can cause.

``cli.py`` maps these to one-line messages and exit codes in one place, so every
message here names the thing that went wrong and, where there is one, the next step.
"""
from __future__ import annotations


class GoalsearchError(Exception):
    """Base of every error goalsearch raises on purpose."""


class UsageError(GoalsearchError):
    """The caller asked for something that cannot make sense (bad range, unknown name)."""


class DocumentError(GoalsearchError):
    """A document cannot be read as a budget document (binary, empty, no table)."""


class Unreadable(DocumentError):
    """A document file exists but cannot be read (permissions, I/O error)."""


class InputUnreadable(GoalsearchError):
    """A file or folder given to ``index`` could not be read, so nothing was published."""


class IndexWriteFailed(GoalsearchError):
    """The new generation could not be written (disk full, permissions); the live index is unchanged."""


class InterruptedAfterPublish(KeyboardInterrupt):
    """Ctrl-C came after the new generation was published (during the clean-up): the index holds the
    new documents, so "the index is unchanged" would be a lie. Its message says what happened."""


class IndexMissing(GoalsearchError):
    """No index exists at the given location."""


class IndexCorrupt(GoalsearchError):
    """The index on disk does not match its manifest (tampered or half-written)."""


class IndexIncompatible(GoalsearchError):
    """The index was built with another embedding model or an older format."""


class IndexLocked(GoalsearchError):
    """Another process is writing the index."""


class RecordNotFound(GoalsearchError):
    """No record has the given id or name."""


class AmbiguousRecord(GoalsearchError):
    """A name matches several records; the caller must pick an id."""

    def __init__(self, message: str, candidates: list) -> None:
        super().__init__(message)
        self.candidates = candidates
