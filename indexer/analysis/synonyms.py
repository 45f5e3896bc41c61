"""Synonym files: groups of terms that mean the same, one group per line (``等保 = 等级保护``).

The shipped file is ``data/synonyms.txt``; a user's file (``goalsearch index --synonyms``)
is read and checked here when indexing and its lines are kept in the manifest, so the
index searches the same way wherever it is opened. Matching queries against the
groups is the search side's job (``search.lexical.synonyms``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from charset_normalizer import from_bytes

from ..errors import UsageError
from ..files import data_json, data_text


def parse_groups(lines: Iterable[str], source: str = "synonyms") -> list[tuple[str, ...]]:
    """Groups from lines of ``a = b = c``; blank lines and ``#`` comments are skipped.

    >>> parse_groups(["# abbreviations", "等保 = 等级保护 = 网络安全等级保护"])
    [('等保', '等级保护', '网络安全等级保护')]
    """
    groups = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms = tuple(dict.fromkeys(t.strip() for t in line.split("=") if t.strip()))
        if len(terms) < 2:
            raise UsageError(f"{source} line {number}: {line!r} needs two terms joined by ' = ', e.g. 等保 = 等级保护")
        groups.append(terms)
    return groups


def package_synonym_lines() -> list[str]:
    """The lines of the shipped synonyms file."""
    return data_text("synonyms.txt").splitlines()


def dictionary_limits() -> dict:
    """How large a user's synonyms file or dictionary may be (``dictionaries`` in ``data/limits.json``)."""
    return data_json("limits.json")["dictionaries"]


def read_user_lines(path: str, what: str, most: int) -> list[str]:
    """The non-blank, non-comment lines of a user's file, in whatever encoding it is (UTF-8 or what
    charset-normalizer finds: GBK, GB18030, Big5…, as documents are), within ``data/limits.json``:
    at most ``most`` lines, ``line_chars`` each, ``file_mb`` in all. Anything else is one UsageError naming it."""
    limits = dictionary_limits()
    try:
        if Path(path).stat().st_size > limits["file_mb"] << 20:
            raise UsageError(f"{what} {path} is larger than {limits['file_mb']} MB (data/limits.json)")
        with open(path, "rb") as handle:
            data = handle.read((limits["file_mb"] << 20) + 1)
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None or b"\x00" in data:
            raise UsageError(f"{what} {path} is not text in an encoding goalsearch knows") from None
        text = str(best)
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) > most:
        raise UsageError(f"{what} {path} has {len(lines)} entries; at most {most} are read (data/limits.json)")
    long = next((number for number, line in enumerate(lines, start=1) if len(line) > limits["line_chars"]), None)
    if long is not None:
        raise UsageError(f"{what} {path}: entry {long} is longer than {limits['line_chars']} characters")
    return lines


def read_synonym_lines(path: str) -> tuple[str, ...]:
    """The group lines of a user's synonyms file, checked (a bad line is a UsageError naming it)."""
    lines = read_user_lines(path, "synonyms file", dictionary_limits()["synonym_groups"])
    parse_groups(lines, source=f"synonyms file {path}")
    return tuple(lines)
