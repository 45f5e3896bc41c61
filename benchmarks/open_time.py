"""Time ``GoalSearch.open`` and the first queries after it, in a fresh process (issue #32: the disk item
must not slow the open).

    python benchmarks/open_time.py CODE_ROOT INDEX_DIR   # prints {"tree": ..., "open_ms": ..., ...}

Run it for two trees (each on the index it wrote) one after the other, several times, so that both see
the same machine. The first plain bm25 query reads the summed weights and its hits' records (inflated
from format 2); the first syntax query (``name:…``) reads and weighs every field's counts.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warm_latency import import_search  # noqa: E402


def main() -> None:
    root, index_dir = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    search = import_search(root)
    times: dict = {"tree": str(Path(search.__file__).resolve()), "import_ms": round((time.perf_counter() - started) * 1000, 1)}
    started = time.perf_counter()
    index = search.GoalSearch.open(index_dir)
    times["open_ms"] = round((time.perf_counter() - started) * 1000, 1)
    for label, query in (("first_bm25_ms", "社保卡制发"), ("second_bm25_ms", "信息化运维"), ("first_syntax_ms", "name:社保卡")):
        started = time.perf_counter()
        hits = index.search(query, mode="bm25", limit=10)
        times[label] = round((time.perf_counter() - started) * 1000, 1)
        times[label.replace("_ms", "_ids")] = [hit.record.id for hit in hits]
    index.close()
    print(json.dumps(times))


if __name__ == "__main__":
    main()
