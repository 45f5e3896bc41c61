"""Opening a generation's record store for searching, checked against its manifest."""
from __future__ import annotations

from pathlib import Path

from ..indexer.storage import integrity
from ..indexer.storage.contents import LEGACY_RECORDS, load_records
from ..indexer.storage.family_store import has_family_file, load_families
from ..indexer.storage.record_store import RECORD_DB, RecordStore


def open_records(generation: Path, manifest: dict) -> RecordStore:
    """The generation's ``records.db``, opened read-only; its row count and id order must be the manifest's.

    A generation written before ``records.db`` existed (``records.jsonl``, ``families.json``) is
    read whole into a store in memory, as it always was read whole; the next ``goalsearch index``
    writes the database.
    """
    if (generation / RECORD_DB).exists() or not (generation / LEGACY_RECORDS).exists():
        found = RecordStore.open(generation)
        name = RECORD_DB
    else:
        families = load_families(generation, manifest) if has_family_file(generation, manifest) else None
        found = RecordStore.from_records(load_records(generation, manifest), families, generation, LEGACY_RECORDS)
        name = LEGACY_RECORDS
    try:
        integrity.check_ids(generation, manifest, name, found.ids)
    except BaseException:
        found.close()
        raise
    return found
