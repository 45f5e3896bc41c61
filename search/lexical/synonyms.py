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
from typing import Iterable

from ...indexer.analysis.synonyms import package_synonym_lines, parse_groups


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
        self._pattern = re.compile("|".join(_term_pattern(t) for t in terms), re.IGNORECASE) if terms else None

    @classmethod
    def parse(cls, lines: Iterable[str], source: str = "synonyms") -> "Synonyms":
        """Groups from lines of ``a = b = c`` (``indexer.analysis.synonyms``)."""
        return cls(parse_groups(lines, source))

    def expansions(self, text: str) -> list[Expansion]:
        """The group terms found in ``text`` (longest first, not overlapping) with their alternatives."""
        if self._pattern is None:
            return []
        found = {match.group(0).lower(): match.group(0) for match in self._pattern.finditer(text)}
        return [Expansion(spelled, self.alternatives[term]) for term, spelled in found.items()]


def _term_pattern(term: str) -> str:
    """A regex for ``term``; Latin letters and digits at its ends must not run on into the text."""
    pattern = re.escape(term)
    if re.match(r"[0-9a-z]", term):
        pattern = r"(?<![0-9a-z])" + pattern
    if re.search(r"[0-9a-z]$", term):
        pattern += r"(?![0-9a-z])"
    return pattern


@lru_cache(maxsize=8)
def load_synonyms(user_lines: tuple[str, ...] = ()) -> Synonyms:
    """The shipped groups plus a user's (from the index manifest), parsed once per process."""
    return Synonyms.parse([*package_synonym_lines(), *user_lines])
