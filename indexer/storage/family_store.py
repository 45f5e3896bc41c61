"""A generation's project families: computed when it is written, kept in its record store.

Every family (families of one included) with its members' record ids ordered by year goes into
``records.db`` (``record_store``), so a hit's family is one column of its row. Generations written
before that kept them in ``families.json``, which ``load_families`` still reads;
``check_families`` is what ``goalsearch check`` asks of them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..families import Family, find_families, goal_vectors
from .integrity import damaged, load_json, reading
from ..records import Record

FAMILIES = "families.json"
FORMAT = 1


def compute_families(directory: Path, records: list[Record], dimension: int, views: list[str]) -> list[Family]:
    """The families of ``records``, from the vectors already written in ``directory``."""
    from .vectors import VECTORS

    matrix = np.load(directory / VECTORS, mmap_mode="r", allow_pickle=False)
    goals = goal_vectors(np.asarray(matrix), views, dimension) if len(records) else np.zeros((0, dimension), np.float32)
    return find_families(records, goals)


def has_family_file(generation: Path, manifest: dict) -> bool:
    """Does this generation keep its families in ``families.json`` (written before ``records.db``)?"""
    return FAMILIES in manifest.get("checksums", {}) or (generation / FAMILIES).exists()


def load_families(generation: Path, manifest: dict) -> list[Family]:
    """The families of a generation's ``families.json``, checked against the manifest checksum; IndexCorrupt naming the file when damaged."""
    data = load_json(generation, manifest, FAMILIES)
    with reading(generation, FAMILIES):
        if data.get("format") != FORMAT:
            raise damaged(generation, FAMILIES, f"format {data.get('format')!r}, expected {FORMAT}")
        return [Family.from_dict(f) for f in data["families"]]


def check_families(families: list[Family], record_ids: list[str]) -> list[str]:
    """What is wrong with ``families`` for these records: every record must be in exactly one family."""
    problems = []
    seen: dict[str, str] = {}
    ids = set(record_ids)
    unknown = 0
    for family in families:
        if not family.members:
            problems.append(f"family {family.id} has no members")
        for member in family.members:
            if member in seen:
                problems.append(f"record {member} is in families {seen[member]} and {family.id}")
            seen[member] = family.id
            unknown += member not in ids
    if unknown:
        problems.append(f"{unknown} family members are not records of the index")
    missing = len(ids - set(seen))
    if missing:
        problems.append(f"{missing} records are in no family")
    if len({f.id for f in families}) != len(families):
        problems.append("two families share an id")
    return problems
