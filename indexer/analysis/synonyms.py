"""Synonym files: groups of terms that mean the same, one group per line (``等保 = 等级保护``).

The shipped file is ``data/synonyms.txt``; a user's file (``goalsearch index --synonyms``)
is read and checked here when indexing and its lines are kept in the manifest, so the
index searches the same way wherever it is opened. Matching queries against the
groups is the search side's job (``search.lexical.synonyms``).
"""
from __future__ import annotations

from typing import Iterable

from ..errors import UsageError
from ..files import data_text


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


def read_synonym_lines(path: str) -> tuple[str, ...]:
    """The group lines of a user's synonyms file, checked (a bad line is a UsageError naming it)."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except OSError as exc:
        raise UsageError(f"synonyms file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"synonyms file {path} is not UTF-8 text") from None
    parse_groups(lines, source=f"synonyms file {path}")
    return tuple(line for line in lines if line and not line.startswith("#"))
