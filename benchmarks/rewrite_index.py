"""Rewrite a copy of an index's term matrices and record store with the current writers (issue #32's disk item).

    python benchmarks/rewrite_index.py SOURCE_INDEX NEW_DIR

A 100k build takes 10–14 minutes; the storage format can be measured without one. ``NEW_DIR`` gets a
copy of ``SOURCE_INDEX`` whose current generation's ``terms/`` is written again by ``write_terms``
(every row reused from the source's counts: the hashes match, nothing is tokenized) and whose
``records.db`` is written again by ``write_store`` from the source's records and families, then
resealed (manifest checksums). Whoosh and the vectors are copied as they are. Compare with
``benchmarks/index_sizes.py``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from warm_latency import import_search  # noqa: E402

import_search(ROOT)  # goalsearch is this tree, not the installed one (the root is the package)

from goalsearch.indexer.families import Family  # noqa: E402
from goalsearch.indexer.storage import generations as store  # noqa: E402
from goalsearch.indexer.storage.record_store import RECORD_DB, RecordStore, write_store  # noqa: E402
from goalsearch.indexer.storage.terms import TERMS, write_terms  # noqa: E402


def rewrite(source: Path, target: Path) -> dict:
    """Copy ``source`` to ``target`` and rewrite the copy's terms and records; seconds per step."""
    shutil.copytree(source, target)
    live = target / (target / "CURRENT").read_text().strip()
    manifest = json.loads((live / "manifest.json").read_text("utf-8"))
    timings = {}
    started = time.perf_counter()
    old = RecordStore.open(live)
    records = list(old)
    families = [Family.from_dict(f) for f in old.families()]
    old.close()
    timings["read_records_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    scratch = target / "scratch"
    scratch.mkdir()
    tokenized = write_terms(scratch, records, tuple(manifest.get("user_words", ())), previous=live)
    shutil.rmtree(live / TERMS)
    (scratch / TERMS).rename(live / TERMS)
    timings["write_terms_s"] = round(time.perf_counter() - started, 2)
    timings["rows_tokenized"] = tokenized

    started = time.perf_counter()
    (live / RECORD_DB).unlink()
    write_store(live / RECORD_DB, records, families)
    timings["write_store_s"] = round(time.perf_counter() - started, 2)
    scratch.rmdir()
    manifest["checksums"] = store.checksums(live)
    store.write_json(live / "manifest.json", manifest)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    if args.target.exists():
        parser.error(f"{args.target} exists; give a new folder")
    print(json.dumps(rewrite(args.source, args.target), indent=1))


if __name__ == "__main__":
    main()
