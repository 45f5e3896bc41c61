"""Where a generation keeps its project families: ``families.json``, read and written only here.

The file holds the rule's settings and every family (families of one included), each with its
members' record ids ordered by year. It is part of the generation, so it is published, checksummed
and replaced with everything else; ``check_families`` is what ``goalsearch check`` asks of it.
When the record store moves (issue #18), this module is the one to move with it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .families import Family, family_settings, find_families, goal_vectors
from .integrity import damaged, load_json, reading
from .records import Record

FAMILIES = "families.json"
FORMAT = 1


def write_families(directory: Path, records: list[Record], dimension: int, views: list[str]) -> list[Family]:
    """Compute the families of ``records`` from the vectors already written in ``directory`` and store them."""
    from .vectors import VECTORS

    matrix = np.load(directory / VECTORS, mmap_mode="r", allow_pickle=False)
    goals = goal_vectors(np.asarray(matrix), views, dimension) if len(records) else np.zeros((0, dimension), np.float32)
    families = find_families(records, goals)
    settings = {k: v for k, v in family_settings().items() if not k.startswith("_") and k != "duplicates"}
    data = {"format": FORMAT, "settings": settings, "families": [f.to_dict() for f in families]}
    (directory / FAMILIES).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")
    return families


def has_families(generation: Path, manifest: dict) -> bool:
    """Was this generation built with families (older indexes were not)?"""
    return FAMILIES in manifest.get("checksums", {}) or (generation / FAMILIES).exists()


def load_families(generation: Path, manifest: dict) -> list[Family]:
    """The families of a generation, checked against the manifest checksum; IndexCorrupt naming the file when damaged."""
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
