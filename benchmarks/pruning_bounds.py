"""Could safe top-k pruning (MaxScore, block-max WAND) skip postings of goalsearch's plain BM25 queries?

    python benchmarks/pruning_bounds.py INDEX_DIR [--k 10] [--json OUT]

For each query of ``eval_queries.json`` it scores the query's own word groups exactly (they decide which records
are complete matches, so they cannot be skipped), and takes every other term (synonym alternatives and character
n-grams) as non-essential, bounded by its largest weight in the index × its query weight (MaxScore's bound; a block
bound is at most as tight over the whole index). A record can enter the top ``k`` only if its exact part plus the sum
of those bounds (R) reaches the ``k``-th best exact part (θ, complete matches first). It prints R, θ, the records
that would still have to be scored, and the postings the non-essential terms hold: pruning pays only where R is
small against θ.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from warm_latency import import_search  # noqa: E402


def bounds(lexical, plain, k: int) -> dict | None:
    total = np.zeros(len(lexical.ids), dtype=np.float32)
    matched = np.zeros(len(lexical.ids), dtype=np.int32)
    for (word, parts), weight in zip(plain.groups, plain.weights):
        hit = lexical._add_group(total, word, parts, weight)
        if hit is not None:
            matched += hit
    bound, postings = 0.0, 0
    columns = [(lexical.words, term, weight) for groups, weight in plain.alternatives
               for word, parts in groups for term in (word, *parts)]
    columns += [(lexical.grams, gram, weight) for gram, weight in plain.grams.items()]
    for kind, term, weight in columns:
        col = lexical.column.get(term)
        if col is not None:
            rows, weights = kind.column(col)
            if len(rows):
                bound += weight * float(weights.max())
                postings += len(rows)
    complete = matched == len(plain.groups)
    step = float(total.max()) + bound + 1.0
    key = total + complete * step
    touched = np.flatnonzero(total > 0)
    if len(touched) < k:
        return None
    theta = float(np.partition(key[touched], len(touched) - k)[len(touched) - k])
    return {"complete": int(complete.sum()), "touched": int(len(touched)),
            "to_score": int(np.count_nonzero(key + bound >= theta)), "R": round(bound, 1),
            "theta": round(theta - step if theta >= step else theta, 1), "nonessential_postings": postings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json")
    args = parser.parse_args()
    search = import_search(ROOT)
    queries = [q["query"] for q in json.loads((ROOT / "benchmarks" / "eval_queries.json").read_text("utf-8"))["queries"]]
    index = search.GoalSearch.open(args.index_dir)
    index.search(queries[0], mode="bm25")
    rows = {}
    for query in queries:
        plain = index.bm25.parse(query).plain
        if plain is not None and index.bm25.lexical is not None:
            rows[query] = bounds(index.bm25.lexical, plain, args.k)
    found = [r for r in rows.values() if r]
    summary = {"queries": len(found), "median_R_over_theta": round(float(np.median([r["R"] / max(r["theta"], 1e-9) for r in found])), 1),
               "median_share_still_scored": round(float(np.median([r["to_score"] / r["touched"] for r in found])), 3),
               "median_nonessential_postings": int(np.median([r["nonessential_postings"] for r in found]))}
    print(json.dumps({"summary": summary, "queries": rows}, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "queries": rows}, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
