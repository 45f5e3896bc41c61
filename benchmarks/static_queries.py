"""Issue #32: could queries skip the transformer? The fast model's static word vectors against the default vectors.

    python -m goalsearch index indexer/samples --index-dir /tmp/relevance-idx
    python benchmarks/static_queries.py --index-dir /tmp/relevance-idx --json benchmarks/results/32_static_queries.json

The fast model (``indexer/models/static.py``) is distilled from multilingual-e5-small's *query* side: each word's
vector is e5's vector of that word as a query, and a text's vector is the mean of its words'. So a static query
vector lives in the space of the index's e5 document vectors and costs a tokenizer call and a mean instead of a
transformer pass. This script encodes the queries up to a length with it (the rest with e5, as shipped), runs the
shipped pipeline (``relevance_round3``) over both query sets and times the two encoders. The fast model is
distilled into the goalsearch home once (~7 minutes) if it is not there.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from relevance_round3 import SHIPPED, Sides, ranked  # noqa: E402  (imports this tree)
from relevance_round5 import ndcg_by_kind  # noqa: E402

from goalsearch.indexer.models.embedding import build_fast_model  # noqa: E402
from goalsearch.indexer.models.static import StaticQueryEncoder  # noqa: E402
from goalsearch.search import GoalSearch  # noqa: E402

LENGTHS = (0, 12, 30, 79, 10_000)  # queries of at most this many characters get the static vector


def scored(sides: Sides, static: StaticQueryEncoder, longest: int) -> dict:
    out = {}
    for name, queries in sides.queries.items():
        results = []
        for q in queries:
            if len(q["query"]) <= longest:
                q = {**q, "vector": static.encode([q["query"]])[0]}
            semantic, hybrid = ranked(sides, q, SHIPPED)
            results.append((q, {"hybrid": hybrid, "semantic": semantic}))
        out.update({f"{name}_{mode}": kinds for mode, kinds in ndcg_by_kind(results).items()})
    return out


def timed(encode, texts: list[str], passes: int = 3) -> dict:
    """Per-text encoding time, ms: p50 and p95 over ``passes`` passes (the first one counted: no warm cache)."""
    times = []
    for _ in range(passes):
        for text in texts:
            start = time.perf_counter()
            encode(text)
            times.append((time.perf_counter() - start) * 1000)
    return {"p50": round(float(np.percentile(times, 50)), 2), "p95": round(float(np.percentile(times, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", required=True, type=Path, help="an index of the bundled samples")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    static = StaticQueryEncoder(build_fast_model())
    results: dict = {"rows": []}
    with GoalSearch.open(args.index_dir) as index:
        sides = Sides(index)
        for longest in LENGTHS:
            row = {"static_up_to_chars": longest, **scored(sides, static, longest)}
            results["rows"].append(row)
            d, o = row["dev_hybrid"], row["old_hybrid"]
            print(f"static for queries ≤ {longest} chars: dev hybrid {d['keyword']:.3f} / {d['description']:.3f} / "
                  f"{d['cross-city']:.3f} / {d['overall']:.3f}, semantic {row['dev_semantic']['overall']:.3f}; "
                  f"older set hybrid {o['overall']:.3f}", flush=True)
        texts = [q["query"] for queries in sides.queries.values() for q in queries]
        embedder = index._embedder()
        results["encoding_ms"] = {
            "e5 (shipped, one thread)": timed(lambda t: embedder.encode_queries([t], passage=len(t) >= 80), texts),
            "static": timed(lambda t: static.encode([t]), texts),
        }
    print("encoding, ms a query:", json.dumps(results["encoding_ms"], ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
