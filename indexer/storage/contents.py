"""Reading back what a generation holds: its records and the ingest report of every file it read.

The records are in ``records.db`` (``record_store``); generations written before it existed keep
them in ``records.jsonl``, one JSON object per line, read whole. The reports are ``reports.json``.
Each is checked against the manifest's checksum when one is given.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import IndexCorrupt
from ..records import IngestReport, Record
from .integrity import damaged, reading, verify_file
from .record_store import RECORD_DB, RecordStore

LEGACY_RECORDS = "records.jsonl"  # the record store before records.db
REPORTS = "reports.json"


def load_records(generation: Path, manifest: dict | None = None) -> list[Record]:
    """Every record of a generation, in index order; IndexCorrupt naming the file when damaged.

    With the generation's ``manifest``, the store is first checked against its checksum.
    Generations written before ``records.db`` existed are read from their ``records.jsonl``.
    """
    if not (generation / RECORD_DB).exists() and (generation / LEGACY_RECORDS).exists():
        return _legacy_records(generation, manifest)
    if manifest is not None:
        verify_file(generation, manifest, RECORD_DB)
    store = RecordStore.open(generation)
    try:
        return list(store)
    finally:
        store.close()


def _legacy_records(generation: Path, manifest: dict | None) -> list[Record]:
    """The records of a ``records.jsonl`` (one JSON object per line), checked against its checksum."""
    with reading(generation, LEGACY_RECORDS):
        data = (generation / LEGACY_RECORDS).read_bytes()
    _check_digest(generation, LEGACY_RECORDS, data, manifest)
    records = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(Record.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise damaged(generation, LEGACY_RECORDS, f"line {number}: {type(exc).__name__}") from None
    return records


def load_reports(generation: Path, manifest: dict | None = None) -> list[IngestReport]:
    """The ingest report of every file the index has seen (checked like ``load_records``)."""
    with reading(generation, REPORTS):
        data = (generation / REPORTS).read_bytes()
        _check_digest(generation, REPORTS, data, manifest)
        return [IngestReport.from_dict(r) for r in json.loads(data.decode("utf-8"))]


def _check_digest(generation: Path, name: str, data: bytes, manifest: dict | None) -> None:
    expected = (manifest or {}).get("checksums", {}).get(name)
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise IndexCorrupt(f"index {generation.parent}: file {name} does not match the manifest "
                           "(changed or tampered); run `goalsearch index --rebuild`")
