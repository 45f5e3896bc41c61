"""Highlights as character ranges, and snippets around them.

Ranges come from the same jieba analyzer that indexed the text, so they fall on
whole CJK characters and whole words; formatting (colour, brackets) happens at the
edge, in the CLI.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from ..indexer.analysis.analyzer import term_spans
from ..indexer.files import data_json

@lru_cache(maxsize=1)
def highlight_chars() -> int:
    """How much of a field is searched for highlights (``highlight.chars`` in ``data/limits.json``)."""
    return data_json("limits.json")["highlight"]["chars"]


@lru_cache(maxsize=1)
def windows_tried() -> int:
    """How many snippet windows are compared, one per range from the first (``highlight.windows``)."""
    return data_json("limits.json")["highlight"]["windows"]


@dataclass
class Snippet:
    """A window of a field's text with the matched ranges inside it (relative to ``text``)."""

    text: str
    ranges: list[tuple[int, int]] = field(default_factory=list)
    start: int = 0
    truncated_left: bool = False
    truncated_right: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    def marked(self, left: str = "[", right: str = "]") -> str:
        """The snippet with each range wrapped in markers: ``…提高[运维]水平…``."""
        out, last = [], 0
        for start, end in self.ranges:
            out += [self.text[last:start], left, self.text[start:end], right]
            last = end
        out.append(self.text[last:])
        return ("…" if self.truncated_left else "") + "".join(out) + ("…" if self.truncated_right else "")


def highlight_ranges(text: str, terms: set[str], extra_words: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """Character ranges of ``text`` that match query terms, within its first ``highlight_chars()``
    characters: a 2,000,000-character goal took 15 s to tokenize and highlight on every search that showed it."""
    if not text or not terms:
        return []
    return term_spans(text[:highlight_chars()], terms, extra_words)


# After one of these a clause begins: a snippet cut there reads as a phrase, not from the middle of a word
# (``…统、数字化企业服务平台`` was cut out of 系统).
CLAUSE_ENDS = frozenset("，。；：、！？,;:!?\n")


def clause_starts(text: str, first: int, starts_clause: bool = True) -> list[int]:
    """Offsets up to ``first`` where a clause of ``text`` begins: after a clause-ending mark, and 0 when
    ``starts_clause`` (the text is not cut out of a longer one mid-clause)."""
    found = [i + 1 for i, ch in enumerate(text[:first]) if ch in CLAUSE_ENDS]
    return ([0] if starts_clause else []) + found


def snippet(text: str, ranges: list[tuple[int, int]], width: int = 120) -> Snippet:
    """The ``width``-character window of ``text`` that covers the most highlighted characters, started at the
    beginning of the clause of its first match when one begins within the window."""
    if len(text) <= width:
        return Snippet(text, list(ranges))
    best_start, best_cover = 0, -1
    ranges = sorted(ranges)
    starts = [s for s, _ in ranges]
    longest = max((e - s for s, e in ranges), default=0)
    for start, _ in ranges[:windows_tried()] or [(0, 0)]:
        begin = max(0, min(start - width // 6, len(text) - width))
        # only the ranges that can reach into the window (linear, where comparing with all ranges was quadratic)
        near = ranges[bisect_left(starts, begin - longest):bisect_left(starts, begin + width)]
        cover = sum(min(e, begin + width) - max(s, begin) for s, e in near if e > begin)
        if cover > best_cover:
            best_start, best_cover = begin, cover
    if best_start > 0:  # move the window forward to the start of the first match's clause; it ends as much later
        first = next((s for s, e in ranges if e > best_start), best_start + width // 3)
        lead = text[best_start:min(first, best_start + width // 3)]
        begun = clause_starts(lead, len(lead), starts_clause=False)
        if begun:
            best_start = min(best_start + begun[-1], len(text) - width)
    end = best_start + width
    inside = [(max(s, best_start) - best_start, min(e, end) - best_start) for s, e in ranges if e > best_start and s < end]
    return Snippet(text[best_start:end], inside, best_start, best_start > 0, end < len(text))
