"""The search page's time in-process, for two trees in alternation (the web layer without HTTP or workers).

    python benchmarks/page_latency.py --tree /tmp/wt-before --tree . --index-dir /tmp/idx100k --rounds 2

Each round runs every tree in its own process (``warm_latency.import_search``'s way of importing a given tree),
which asks the search page (results, five facets and the totals chart) for the first ``--queries`` queries of
``eval_queries.json`` after one warm-up page, and prints p50 and p95 per tree. Ratios matter, not the numbers:
the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import json, sys, time
sys.path.insert(0, {here!r})
from warm_latency import import_search
search = import_search({tree!r})
import importlib
app = importlib.import_module(search.__name__.rsplit(".", 1)[0] + ".web.app")
from fastapi.testclient import TestClient
queries = [q["query"] for q in json.loads(open({queries!r}, encoding="utf-8").read())["queries"]][:{count}]
with TestClient(app.create_app({index!r}), base_url="http://127.0.0.1") as client:
    client.get("/", params={{"q": "运维"}})
    times = []
    for query in queries:
        started = time.perf_counter()
        assert client.get("/", params={{"q": query}}).status_code == 200
        times.append(round((time.perf_counter() - started) * 1000, 1))
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="a goalsearch checkout (twice or more)")
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=12)
    parser.add_argument("--json", help="write the times here too")
    args = parser.parse_args()
    import numpy as np

    times: dict[str, list[float]] = {tree: [] for tree in args.tree}
    for _ in range(args.rounds):
        for tree in args.tree:
            code = CHILD.format(here=str(HERE), tree=str(Path(tree).resolve()), index=args.index_dir,
                                queries=str(HERE / "eval_queries.json"), count=args.queries)
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
            times[tree] += json.loads(out.strip().splitlines()[-1])
    result = {tree: {"p50_ms": round(float(np.percentile(t, 50)), 1), "p95_ms": round(float(np.percentile(t, 95)), 1),
                     "pages": len(t)} for tree, t in times.items()}
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), "utf-8")


if __name__ == "__main__":
    main()
