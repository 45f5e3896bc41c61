"""Write the rankings of the dev-set queries on the sample index to a JSON file.

    python tests/dev_rankings.py INDEX_DIR tests/data/dev_rankings.json

``tests/test_store.py`` compares a fresh index's rankings with the file, so a change to how
records, term matrices or vectors are stored cannot change what a search returns unnoticed.
Each query runs in each mode, alone and under a few filters (city, years, amount, section);
the empty query lists the filtered projects by amount. Ids and scores (rounded) are kept.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goalsearch.search import GoalSearch  # noqa: E402

FILTERS = {
    "none": {},
    "city": {"city": ["广州"]},
    "years+amount": {"years": (2024, 2026), "min_amount": 100},
    "section+category": {"section": ["key_project"], "category": ["运维"]},
    "department": {"department": "人力资源"},
}
MODES = ("bm25", "semantic", "hybrid")


def rankings(index: GoalSearch, queries: list[str], limit: int = 10) -> dict[str, list]:
    """``"mode|filter|query"`` → [[id, score rounded to 4 places], …] for every query, mode and filter."""
    found = {}
    for label, filters in FILTERS.items():
        found[f"list|{label}|"] = [[h.record.id, round(h.score, 4)] for h in index.search("", limit=limit, **filters)]
        for query in queries:
            for mode in MODES:
                hits = index.search(query, mode=mode, limit=limit, highlight=False, **filters)
                found[f"{mode}|{label}|{query}"] = [[h.record.id, round(h.score, 4)] for h in hits]
    return found


def dev_queries() -> list[str]:
    return [q["query"] for q in json.loads((ROOT / "benchmarks" / "dev_queries.json").read_text("utf-8"))["queries"]]


if __name__ == "__main__":
    with GoalSearch.open(sys.argv[1]) as index:
        Path(sys.argv[2]).write_text(json.dumps(rankings(index, dev_queries()), ensure_ascii=False, indent=0), "utf-8")
