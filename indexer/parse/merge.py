"""Joining the Entries that name one project in several tables into one Record.

The same project appears in the expenditure table and in the key-project (or
whole-department) table of one document, with the same amount and a name that
differs slightly (spaces, ``市就业补助资金`` vs ``就业补助资金``, ``准备金`` vs
``储备金``, a truncated ``…改造项``). Entries merge when their amounts agree and
their names are similar; the longer goal and name are kept, the other name
becomes an alias. Same name under different units stays two projects.
"""
from __future__ import annotations

from difflib import SequenceMatcher

from .entries import Entry
from ..records import Indicator, Skip

NAME_SIMILARITY = 0.6


def _amounts_agree(a: Entry, b: Entry) -> bool:
    if a.amount is None or b.amount is None:
        return False
    tolerance = 0.011 if a.precise and b.precise else 1.0
    return abs(a.amount - b.amount) <= tolerance


def name_similarity(a: str, b: str) -> float:
    """Similarity of two project names, 0..1 (difflib's ratio; 1 when one contains the other)."""
    if a in b or b in a:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _absorb(target: Entry, other: Entry) -> None:
    if len(other.name) > len(target.name) and other.name.startswith(target.name):
        target.aliases.append(target.name)
        target.name = other.name
    elif other.name != target.name:
        target.aliases.append(other.name)
    if len(other.goal) > len(target.goal):
        target.goal = other.goal
    target.sections.extend(s for s in other.sections if s not in target.sections)
    target.lines.extend(other.lines)
    target.indicators.extend(other.indicators)
    target.warnings.extend(w for w in other.warnings if w not in target.warnings)
    target.unit = target.unit or other.unit
    for label, value in other.amounts.items():
        target.amounts.setdefault(label, value)
    target.absorbed.extend(other.absorbed)


def merge_entries(primary: list[Entry], secondary: list[Entry], source: str) -> tuple[list[Entry], list[tuple[Skip, Entry]]]:
    """Merge each secondary Entry into its best primary match, or keep it as a project.

    Returns the surviving entries and, for each merged row, the Skip that records
    it together with the entry it went into (whose id is known only later).
    """
    merged: list[tuple[Skip, Entry]] = []
    survivors = list(primary)
    taken: set[int] = set()
    for entry in secondary:
        candidates = [(name_similarity(entry.name, p.name), i) for i, p in enumerate(primary)
                      if i not in taken and _amounts_agree(entry, p)]
        best = max(candidates, default=None)
        if best and best[0] >= NAME_SIMILARITY:
            target = primary[best[1]]
            taken.add(best[1])
            _absorb(target, entry)
            skip = Skip(source, entry.line, entry.section, f"same project as line {target.line} (merged)", entry.name[:120])
            merged.append((skip, target))
        else:
            survivors.append(entry)
    return survivors, merged


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def attach_indicators(entries: list[Entry], indicators: list[Indicator], overall_section: str) -> None:
    """Give each indicator to the project it names; department-wide ones to every task.

    An indicator belongs to the entry whose name and goal share the most character
    bigrams with it (at least three, and more than any other entry); otherwise it
    describes the department as a whole and goes to every entry of the overall table.
    """
    if not indicators or not entries:
        return
    department_wide = [e for e in entries if overall_section in e.sections] or entries
    for indicator in indicators:
        wanted = _bigrams(indicator.name)
        scores = sorted(((len(wanted & _bigrams(e.name + e.goal)), i) for i, e in enumerate(entries)), reverse=True)
        best, runner_up = scores[0], scores[1] if len(scores) > 1 else (0, -1)
        if best[0] >= 3 and best[0] > runner_up[0]:
            entries[best[1]].indicators.append(indicator)
        else:
            for entry in department_wide:
                entry.indicators.append(indicator)
