"""A budget per document: one file is parsed in a child process under limits of memory and time.

Documents come from the open web, and a few kilobytes can ask for gigabytes or hours: a PDF of form
XObjects nested ten deep, a content stream that inflates to a gibibyte, a page of ``colspan`` cells.
Counting each such thing by hand in every reader would never be complete, so the limits are the
operating system's: the child that parses a file may grow its address space by ``memory_mb`` and run
``seconds``; a file over either is one ``DocumentError`` naming the limit, and the batch goes on.

Both limits grow with the file (a long PDF legitimately takes longer and more memory than a short
one): ``memory_mb`` + ``memory_per_mb`` × size and ``seconds`` + ``seconds_per_mb`` × size, from
``data/limits.json``; ``GOALSEARCH_PARSE_MEMORY_MB`` and ``GOALSEARCH_PARSE_SECONDS`` set the bases.
Children come from a fork server started once per process, with the parsers already imported, so a
file costs a fork (milliseconds), and the child never inherits an embedding model's threads.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import DocumentError, Unreadable
from ..files import data_json
from ..records import IngestReport, Record
from .document import document_files, not_a_file

MB = 1 << 20


@dataclass(frozen=True)
class ParseLimits:
    """How much memory (MB added to what the child starts with) and time (s) one file may take."""

    memory_mb: float
    seconds: float

    @classmethod
    def for_file(cls, size: int) -> "ParseLimits":
        settings = data_json("limits.json")["parse"]
        memory = float(os.environ.get("GOALSEARCH_PARSE_MEMORY_MB") or settings["memory_mb"])
        seconds = float(os.environ.get("GOALSEARCH_PARSE_SECONDS") or settings["seconds"])
        megabytes = size / MB
        return cls(memory + settings["memory_per_mb"] * megabytes, seconds + settings["seconds_per_mb"] * megabytes)


_context = None


def _fork_server():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload([f"{__package__}.document"])  # goalsearch.indexer.parse
    return _context


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start fork-server children without the caller's main script.

    multiprocessing runs ``__main__`` again in the fork server and in each child it starts (by path, or by
    module name for ``python -m``), which is why its guide asks for an ``if __name__ == "__main__":`` guard.
    Our child needs nothing from the caller's script, and a user's script without the guard (the README's
    API example, a notebook exported to a file) once ran again in every child, which then died, so every
    file was reported as over its memory budget. Hidden while the child starts, the script is never re-run.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _address_space() -> int:
    """This process's virtual size in bytes (``/proc/self/statm``); 0 where that cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(path: str, limits: ParseLimits, sender) -> None:  # runs in the fork server's child
    """Parse ``path`` under the limits and send back ("ok", result), ("error", message) or ("memory", "").

    The child writes nothing to the terminal: its stderr is /dev/null (a library's warning may quote the
    document), and it leaves through ``os._exit`` so that no exception, not even one raised while
    reporting a MemoryError, reaches multiprocessing's traceback printer. The parent reports a child that
    sent nothing as one line (``parse_within_limits``).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        start = _address_space()
        if start:
            budget = start + int(limits.memory_mb * MB)
            resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
        sender.send(_outcome(path))
        sender.close()
    except BaseException:  # noqa: BLE001 - even reporting failed (no memory left): the parent says "died"
        os._exit(3)
    os._exit(0)


def _outcome(path: str) -> tuple[str, object]:
    """("ok", parse(path)), or the kind of failure and its one-line message."""
    from .document import parse  # imported by the fork server already

    try:
        return "ok", parse(path)
    except MemoryError:
        return "memory", ""
    except Unreadable as exc:
        return "unreadable", str(exc)
    except DocumentError as exc:
        return "error", str(exc)
    except RecursionError:
        return "error", f"{path}: nested too deeply to parse (a damaged or hostile file?)"
    except Exception as exc:  # noqa: BLE001 - a parser's bug on a hostile file is that file's error, not the batch's
        return "error", f"{path}: cannot be parsed ({type(exc).__name__}); is the file damaged?"


def parse_within_limits(path: str | Path, limits: ParseLimits | None = None) -> tuple[list[Record], IngestReport]:
    """``parse(path)`` in a child process under ``limits`` (default: ``ParseLimits.for_file``).

    Raises DocumentError (one line naming the limit) when the file needs more memory or time, or the
    child dies on it; Unreadable when it cannot be read at all.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise Unreadable(not_a_file(path) or f"{path}: cannot read ({exc.strerror})") from None
    if not_a_file(path, info):  # a FIFO would block the reader until the time limit
        raise Unreadable(not_a_file(path, info))
    size = info.st_size
    limits = limits or ParseLimits.for_file(size)
    context = _fork_server()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(str(path), limits, sender), daemon=True)
    with _main_script_hidden():
        child.start()
    sender.close()
    try:
        if not receiver.poll(limits.seconds):
            child.kill()
            raise DocumentError(f"{path}: took more than {limits.seconds:.0f} s to parse (the limit for a file this "
                                "size; GOALSEARCH_PARSE_SECONDS raises it); is it a hostile or damaged file?")
        try:
            kind, payload = receiver.recv()
        except (EOFError, OSError):
            kind, payload = "died", ""
    finally:
        receiver.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
    if kind == "ok":
        return payload
    if kind == "memory" or kind == "died":
        how = "" if kind == "memory" else _how_it_stopped(child.exitcode)
        raise DocumentError(f"{path}: needs more than {limits.memory_mb:.0f} MB to parse{how}, the limit for a file "
                            "this size (GOALSEARCH_PARSE_MEMORY_MB raises it); is it a hostile or damaged file?")
    raise (Unreadable if kind == "unreadable" else DocumentError)(payload)


def _how_it_stopped(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f" (the parser was stopped by signal {-exitcode})"
    return " (the parser stopped before it could report)"


def parse_paths(paths: list[str | Path]) -> tuple[list[Record], list[IngestReport]]:
    """Parse every document under the given paths, each under its budget of memory and time (``budget``);
    a bad file becomes a failed report, never an exception."""

    records: list[Record] = []
    reports: list[IngestReport] = []
    for path in document_files(paths):
        if not path.exists():
            reports.append(IngestReport(source=str(path), error=f"{path}: no such file or directory"))
            continue
        try:
            file_records, report = parse_within_limits(path)
        except DocumentError as exc:
            reports.append(IngestReport(source=str(path), error=str(exc)))
            continue
        records.extend(file_records)
        reports.append(report)
    return records, reports
