"""Domain synonyms and abbreviations, applied to queries as down-weighted alternatives.

Users type ``等保`` where documents write ``网络安全等级保护``, ``ITSM`` where they write
``运维服务管理``. ``indexer/data/synonyms.txt`` holds groups of terms that mean the same
thing (one group per line, terms joined by `` = ``); a user's own file
(``goalsearch index --synonyms FILE``) adds groups and is kept in the index manifest.
A query containing a term of a group also searches the group's other terms, their
weight shared so that one found term never counts more than the query's own words;
the documents are never rewritten. ``--explain`` shows which expansions were used.

Matching is on the query text: longest terms first, never overlapping, and a Latin
term only as a whole word (``SOC`` in ``SOC安全运营``, not in ``SOCKS``).

    >>> Synonyms.parse(["等保 = 等级保护 = 网络安全等级保护"]).expansions("等保测评")
    [Expansion(term='等保', alternatives=('等级保护', '网络安全等级保护'))]
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

from indexer import UsageError


@dataclass(frozen=True)
class Expansion:
    """A term found in the query and the alternatives searched with it."""

    term: str
    alternatives: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


class Synonyms:
    """Groups of equivalent terms, and the expansions of a query."""

    def __init__(self, groups: list[tuple[str, ...]]) -> None:
        self.groups = groups
        alternatives: dict[str, dict[str, None]] = {}
        for group in groups:
            for term in group:
                alternatives.setdefault(term.lower(), {}).update(dict.fromkeys(t for t in group if t.lower() != term.lower()))
        self.alternatives = {term: tuple(alts) for term, alts in alternatives.items() if alts}
        terms = sorted(self.alternatives, key=len, reverse=True)
        self._pattern = re.compile("|".join(_term_pattern(t) for t in terms)) if terms else None

    @classmethod
    def parse(cls, lines: Iterable[str], source: str = "synonyms") -> "Synonyms":
        """Groups from lines of ``a = b = c``; blank lines and ``#`` comments are skipped."""
        groups = []
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            terms = tuple(dict.fromkeys(t.strip() for t in line.split("=") if t.strip()))
            if len(terms) < 2:
                raise UsageError(f"{source} line {number}: {line!r} has no ' = ' between two terms")
            groups.append(terms)
        return cls(groups)

    def expansions(self, text: str) -> list[Expansion]:
        """The group terms found in ``text`` (longest first, not overlapping) with their alternatives."""
        if self._pattern is None:
            return []
        found = dict.fromkeys(match.group(0).lower() for match in self._pattern.finditer(text.lower()))
        return [Expansion(term, self.alternatives[term]) for term in found]


def _term_pattern(term: str) -> str:
    """A regex for ``term``; Latin letters and digits at its ends must not run on into the text."""
    pattern = re.escape(term)
    if re.match(r"[0-9a-z]", term):
        pattern = r"(?<![0-9a-z])" + pattern
    if re.search(r"[0-9a-z]$", term):
        pattern += r"(?![0-9a-z])"
    return pattern


def package_lines() -> list[str]:
    """The lines of the shipped synonyms file."""
    return resources.files("indexer").joinpath("data/synonyms.txt").read_text("utf-8").splitlines()


@lru_cache(maxsize=8)
def load_synonyms(user_lines: tuple[str, ...] = ()) -> Synonyms:
    """The shipped groups plus a user's (from the index manifest), parsed once per process."""
    return Synonyms.parse([*package_lines(), *user_lines])


def read_synonyms_file(path: str) -> tuple[str, ...]:
    """The group lines of a user's synonyms file, checked, for ``goalsearch index --synonyms``."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = tuple(line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#"))
    except OSError as exc:
        raise UsageError(f"synonyms file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"synonyms file {path} is not UTF-8 text") from None
    Synonyms.parse(lines, source=str(path))
    return lines
