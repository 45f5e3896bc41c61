"""Rankings of two trees, each on its own index, compared exactly (issue #32: a storage change must not move a hit).

    python benchmarks/same_results.py CODE_ROOT INDEX_DIR OUT.json   # once per tree
    python benchmarks/same_results.py --compare A.json B.json        # identical ids, order and scores?

The 42 queries of ``eval_queries.json`` in bm25 mode (limit 50, highlights off) and syntax queries that score single
fields from the per-field counts; scores are kept as the floats the API returns (``repr``), so equality is exact.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
HERE = Path(__file__).resolve().parent.parent
SYNTAX = ["name:社保卡", "goal:运维 AND department:人力资源", "name:信息化 OR unit:数据", "goal:\"系统运行\"",
          "社保卡 NOT name:制发"]


def answers(root: str, index_dir: str) -> dict:
    from warm_latency import import_search

    search = import_search(root)
    queries = [q["query"] for q in json.loads((HERE / "benchmarks" / "eval_queries.json").read_text("utf-8"))["queries"]]
    found = {}
    with search.GoalSearch.open(index_dir) as index:
        for query in queries + SYNTAX:
            found[query] = [[hit.record.id, repr(hit.score)] for hit in index.search(query, mode="bm25", limit=50, highlight=False)]
    return found


def main() -> None:
    if sys.argv[1] == "--compare":
        a, b = (json.loads(Path(p).read_text("utf-8")) for p in sys.argv[2:4])
        differ = [query for query in a if a[query] != b.get(query)]
        print(json.dumps({"queries": len(a), "differ": differ, "hits": sum(map(len, a.values()))}, ensure_ascii=False))
        sys.exit(1 if differ or a.keys() != b.keys() else 0)
    Path(sys.argv[3]).write_text(json.dumps(answers(sys.argv[1], sys.argv[2]), ensure_ascii=False), "utf-8")


if __name__ == "__main__":
    main()
