"""Warm latency of one goalsearch tree on one index, for comparing two commits in alternation.

    python benchmarks/warm_latency.py CODE_ROOT INDEX_DIR   # prints {"bm25": [ms...], "semantic": [...], "hybrid": [...]}

The loop is bench.py's: the 42 queries of ``eval_queries.json``, three passes per mode, highlights off,
after three warm-up queries in every mode. Run it for the two trees one after the other, several
times, so that both see the same machine (benchmarks/README.md, issue #18).
"""
import json
import sys
import time

root, index_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from goalsearch.search import GoalSearch  # noqa: E402  (the tree given, not the installed one)

queries = [q["query"] for q in json.load(open(root + "/benchmarks/eval_queries.json", encoding="utf-8"))["queries"]]
index = GoalSearch.open(index_dir)
for query in queries[:3]:
    [index.search(query, mode=mode) for mode in ("bm25", "semantic", "hybrid")]
times = {}
for mode in ("bm25", "semantic", "hybrid"):
    times[mode] = []
    for _ in range(3):
        for query in queries:
            started = time.perf_counter()
            index.search(query, mode=mode, limit=10, highlight=False)
            times[mode].append(round((time.perf_counter() - started) * 1000, 3))
print(json.dumps(times))
