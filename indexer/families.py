"""Project families: the records that are one ongoing project across documents and years.

A budget line comes back every year under a slightly different name: the period moves
(``2023年-2024年软件运维项目`` → ``2025-2026年软件运维项目``), the unit's name in front changes
(``广州市人社数据中心`` → ``广州市人力资源和社会保障数据服务中心``) and now and then a word does
(``供电`` → ``供配电``). ``find_families`` groups such records without comparing every pair:

1. **Name key** (``name_key``): the name with year spans, place names, a leading unit or
   department name (or its abbreviation: ``市人社数据服务中心`` abbreviates
   ``广州市人力资源和社会保障数据服务中心`` when its characters appear in that order) and a final
   ``项目`` set aside.
2. **Unit** (``unit_groups``): records of one funding unit; a unit renamed to a longer or shorter
   name in the same city and department (one name's characters in order inside the other's) is
   the same unit when the two names never appear in one document.
3. **Blocking**: only records of the same city and unit are compared, and within it only names
   with the same key, or keys of one unit whose characters differ little (``difflib`` ratio of at
   least ``fuzzy_name``) and that never appear in one document (two names in one document are two
   projects).
4. **Goal agreement**: a candidate pair joins when the cosine of the goals' vectors (the ``goal``
   view of ``indexer.storage.vectors``) is at least ``same_name_goal`` for equal keys and the stricter
   ``fuzzy_name_goal`` for different keys. Joined pairs are merged transitively (union-find).

Different units never merge, so ``机构运行辅助经费`` of two units stays two families however
alike their goals. The thresholds live in ``data/families.json``; ``benchmarks/families.md``
reads every family of the sample corpus and measures the synthetic corpus at 10k and 100k.

A family's id is stable across rebuilds while no member with a new unit or name key joins: it
hashes the smallest (city, unit, key) of its members.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from .files import data_json
from .records import Record

_SPAN = re.compile(r"[（(]?(?:19|20)\d\d\s*年?度?\s*(?:[-—–~～至到]\s*(?:(?:19|20)?\d\d)\s*年?度?)?[）)]?")
_PLACE = re.compile(r"^(?:广东省|广东)")
_ORG_END = re.compile(r"(?:中心|学院|学校|技校|研究院|仲裁院|局|院|所|站|馆|队|处|委员会|办公室|厅|集团|公司)")
_TAIL = re.compile(r"(?:项目|项)$")
_BLANK = re.compile(r"\s+")
_BRACKETS = str.maketrans("（）［］【】", "()[][]")


@lru_cache(maxsize=1)
def family_settings() -> dict:
    """Thresholds of the family rule and of near-duplicate goals, from package data."""
    return data_json("families.json")


def _normal(text: str) -> str:
    return _BLANK.sub("", (text or "").translate(_BRACKETS))


def _city_forms(city: str | None) -> tuple[str, ...]:
    if not city:
        return ()
    short = city[:-1] if city.endswith("市") else city
    return (city, short) if short != city else (city,)


def _without_place(text: str, city: str | None) -> str:
    text = _PLACE.sub("", text)
    for form in _city_forms(city):
        if text.startswith(form):
            return text[len(form):]
    return text


def _subsequence(short: str, long: str) -> bool:
    """Are ``short``'s characters in ``long`` in order (how Chinese names are abbreviated)?"""
    it = iter(long)
    return all(ch in it for ch in short)


def unit_core(unit: str, city: str | None) -> str:
    """A unit's name without brackets' width, blanks and the leading province or city."""
    return _without_place(_normal(unit), city)


def name_key(record: Record) -> str:
    """What stays of a project name when its years, places and leading unit name are set aside.

    >>> name_key(Record(id="x", name="广州市人社数据中心2023年-2024年软件运维项目", goal="", city="广州市",
    ...                 province=None, year=2024, department="广州市人力资源和社会保障局",
    ...                 unit="广州市人力资源和社会保障数据服务中心", amount=1.0))
    '软件运维'
    """
    name = _SPAN.sub("", _normal(record.name))
    owners = [unit_core(record.unit, record.city), unit_core(record.department, record.city)]
    for _ in range(2):  # 市 + 广州市人社数据中心: the place, then the unit
        name = _without_place(name, record.city)
        if name.startswith("市") and not name.startswith("市场"):
            name = name[1:]
        name = _strip_owner(name, owners)
    key = _TAIL.sub("", name)
    return key or _TAIL.sub("", _normal(record.name))


def _strip_owner(name: str, owners: list[str]) -> str:
    """Drop the longest leading organisation name that abbreviates the unit or department."""
    best = 0
    for match in _ORG_END.finditer(name):
        end = match.end()
        if end < 2 or end >= len(name):
            continue
        prefix = name[:end]
        if any(owner and _subsequence(prefix, owner) for owner in owners):
            best = end
    return name[best:]


def unit_groups(records: list[Record]) -> dict[tuple[str | None, str], str]:
    """(city, unit) → a canonical unit name, joining renamed units.

    Two units of one city and department are one unit renamed when one's core name is in the
    other's in order (``人社数据中心`` in ``人力资源和社会保障数据服务中心``) and no document names both.
    """
    sources: dict[tuple, set[str]] = defaultdict(set)
    by_department: dict[tuple, set[str]] = defaultdict(set)
    for r in records:
        core = unit_core(r.unit, r.city)
        sources[(r.city, core)].add(r.source)
        by_department[(r.city, _normal(r.department))].add(core)
    parent: dict[tuple, tuple] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for (city, _), cores in by_department.items():
        ordered = sorted(cores, key=len)
        for i, short in enumerate(ordered):
            for long in ordered[i + 1:]:
                if len(short) >= 4 and _subsequence(short, long) and not (sources[(city, short)] & sources[(city, long)]):
                    parent[find((city, short))] = find((city, long))
    out = {}
    for r in records:
        core = unit_core(r.unit, r.city)
        out[(r.city, r.unit)] = find((r.city, core))[1]
    return out


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Family:
    """One ongoing project: its stable id, a label, and its members' record ids ordered by year."""

    id: str
    label: str
    members: list[str]
    years: list[int] = field(default_factory=list)
    amounts: dict[str, float] = field(default_factory=dict)  # budget year → total 万元 of its members that year

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Family":
        return cls(id=data["id"], label=data["label"], members=list(data["members"]),
                   years=list(data.get("years", [])), amounts=dict(data.get("amounts", {})))


def _period(record: Record) -> tuple[int, str]:
    """Order inside a family: budget year, then the first year named in the project name."""
    found = re.search(r"(?:19|20)\d\d", record.name)
    return (record.year or 0, found.group() if found else "", record.name)


def family_id(city: str | None, unit: str, key: str) -> str:
    """The id of a family whose smallest member (city, unit, key) is this: ``fam-`` and 12 hex digits
    (never mistaken for a record id, which is 16 hex digits)."""
    canonical = json.dumps([city, unit, key], ensure_ascii=False)
    return "fam-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def goal_vectors(matrix: np.ndarray, views: list[str], dimension: int) -> np.ndarray:
    """The goal view of each vector row (``indexer.storage.vectors``), or the whole row normalised when there is none."""
    if "goal" in views and matrix.shape[1] == dimension * len(views):
        start = views.index("goal") * dimension
        return matrix[:, start:start + dimension]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def find_families(records: list[Record], goals: np.ndarray, settings: dict | None = None) -> list[Family]:
    """Group ``records`` into families (every record in exactly one; most are families of one).

    Args:
        records: every record of the index.
        goals: one unit vector per record, in the same order (``goal_vectors``).
        settings: thresholds (default ``data/families.json``).

    Returns the families, largest first, then by id.
    """
    settings = settings or family_settings()
    same_goal, fuzzy_goal, fuzzy_name = settings["same_name_goal"], settings["fuzzy_name_goal"], settings["fuzzy_name"]
    units = unit_groups(records)
    keys = [name_key(r) for r in records]
    blocks: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, r in enumerate(records):
        blocks[(r.city, units[(r.city, r.unit)])][keys[i]].append(i)
    uf = _UnionFind(len(records))

    def agree(a: int, b: int, threshold: float) -> bool:
        return float(goals[a] @ goals[b]) >= threshold

    for by_key in blocks.values():
        for members in by_key.values():  # same key: join each to the first that agrees
            for pos, i in enumerate(members[1:], start=1):
                for j in members[:pos]:
                    if agree(i, j, same_goal) or _promised_and_delivered(records[i], records[j]):
                        uf.union(i, j)
                        break
        names = sorted(by_key)
        sources = {k: {records[i].source for i in by_key[k]} for k in names}
        for x, a in enumerate(names):
            for b in names[x + 1:]:
                if min(len(a), len(b)) < 4 or sources[a] & sources[b]:
                    continue
                if difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() < fuzzy_name:
                    continue
                pairs = ((i, j) for i in by_key[a] for j in by_key[b])
                hit = next(((i, j) for i, j in pairs if agree(i, j, fuzzy_goal)), None)
                if hit:
                    uf.union(*hit)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(records)):
        groups[uf.find(i)].append(i)
    families = []
    for members in groups.values():
        members.sort(key=lambda i: _period(records[i]))
        anchor = min((records[i].city or "", units[(records[i].city, records[i].unit)], keys[i]) for i in members)
        amounts = amounts_by_year([records[i] for i in members])
        newest = members[-1]
        families.append(Family(id=family_id(*anchor), label=keys[newest], members=[records[i].id for i in members],
                               years=sorted({records[i].year for i in members if records[i].year is not None}),
                               amounts={y: round(v, 2) for y, v in sorted(amounts.items())}))
    _disambiguate(families)
    families.sort(key=lambda f: (-len(f.members), f.id))
    return families


def _promised_and_delivered(a: Record, b: Record) -> bool:
    """A project's goal form and its self-evaluation of the same budget year: one project, whatever the
    self-evaluation says its goal was (``name_key`` and the unit already agree)."""
    return {a.kind, b.kind} == {"goal_form", "self_evaluation"} and a.year == b.year and a.name == b.name


_KIND_ORDER = ("budget", "goal_form", "self_evaluation")  # which document's amount a year's total takes


def amounts_by_year(members: list[Record]) -> dict[str, float]:
    """Each budget year's amount, counted once: the budget table's records where the year has them, else
    the goal form's, else the self-evaluation's (the same money stated in three documents)."""
    by_year: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for record in members:
        kind = record.kind if record.kind in _KIND_ORDER else "budget"
        by_year[str(record.year)][kind] += record.amount or 0.0
    return {year: next(kinds[k] for k in _KIND_ORDER if k in kinds) for year, kinds in by_year.items()}


def _disambiguate(families: list[Family]) -> None:
    """Two families with one anchor (a unit's same-key records whose goals disagree) get ``-2``, ``-3`` …
    in member order, so ids stay unique."""
    seen: dict[str, int] = defaultdict(int)
    for family in sorted(families, key=lambda f: f.members[0]):
        seen[family.id] += 1
        if seen[family.id] > 1:
            family.id = f"{family.id}-{seen[family.id]}"
