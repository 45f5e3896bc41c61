"""goalsearch beside the engines of ``baselines.py``: latency per engine and mode, and agreement (#32).

Every engine and mode is timed on the same query in turn, query after query, so a burst of load from
other jobs on the shared machine falls on all of them alike. Semantic and hybrid are timed given the
query vector (encoded once beforehand; goalsearch reads it from its query-vector cache), and the
encoding is timed on its own, and inside goalsearch's hybrid with the cache off: what a new query costs.
Agreement is overlap@10 with goalsearch's own results in the same mode.
"""
from __future__ import annotations

import time

import numpy as np

from baselines import Baselines, overlap


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {f"p{p}": round(float(np.percentile(ms, p)), 2) for p in (50, 95, 99)}


def compare(index, queries: list[str], rounds: int, engines: tuple[str, ...] | None = None,
            blocks: bool = False) -> dict:
    """Build the baselines over ``index``, time every engine and mode on ``queries`` ``rounds`` times
    in alternation, and measure overlap@10 with goalsearch.

    ``blocks``: alternate whole passes over the queries instead of single calls. A call right after
    another library's call shares the 2 cores with that library's worker threads, which spin for a
    while after their work is done (OpenBLAS, OpenMP, LanceDB's runtime); in blocks only a block's
    first call does."""
    baselines = Baselines(index, engines) if engines else Baselines(index)
    index.query_cache_size = len(queries) + 1  # goalsearch semantic and hybrid read the vector from the cache
    vectors = {q: index.encode_query(q) for q in queries}  # fill it, and the vectors the others get

    def goalsearch(mode: str):
        return lambda q: [h.record.id for h in index.search(q, mode=mode, limit=10, highlight=False)]

    def uncached(run):
        """``run`` as for a new query: its vector is not in the cache, and is not kept."""
        def fresh(q: str):
            kept, size = index._query_vectors, index.query_cache_size
            index._query_vectors, index.query_cache_size = type(kept)(), 0
            try:
                return run(q)
            finally:
                index._query_vectors, index.query_cache_size = kept, size
        return fresh

    runs = {("goalsearch", "bm25"): goalsearch("bm25"), ("goalsearch", "semantic"): goalsearch("semantic"),
            ("goalsearch", "hybrid"): goalsearch("hybrid"),
            ("goalsearch", "encode"): uncached(index.encode_query),
            ("goalsearch", "hybrid with encoding"): uncached(goalsearch("hybrid"))}
    built = set(baselines.build_s)
    if "bm25s" in built:
        runs["bm25s", "bm25"] = lambda q: baselines.bm25s(q, 10)
    if "tantivy" in built:
        runs["tantivy", "bm25"] = lambda q: baselines.tantivy(q, 10)
    if "lancedb" in built:
        runs["lancedb", "bm25"] = lambda q: baselines.lance_fts(q, 10)
        runs["lancedb", "semantic"] = lambda q: baselines.lance_vector(vectors[q], 10)
        runs["lancedb", "hybrid"] = lambda q: baselines.lance_hybrid(q, vectors[q], 10)
    if "numpy" in built:
        runs["numpy", "semantic"] = lambda q: baselines.numpy(vectors[q], 10)
    for q in queries[:3]:
        for run in runs.values():
            run(q)  # warm: files, caches, lazy imports
    times: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    found: dict[tuple[str, str], list[list[str]]] = {key: [] for key in runs}
    order = [[(key, q) for key in runs for q in queries]] if blocks else [[(key, q) for key in runs] for q in queries]
    for turn in range(rounds):
        for calls in order:
            for key, q in calls:
                started = time.perf_counter()
                out = runs[key](q)
                times[key].append(time.perf_counter() - started)
                if turn == 0:
                    found[key].append(out)
    latency: dict[str, dict] = {}
    agreement: dict[str, dict] = {}
    for (engine, mode), spent in times.items():
        latency.setdefault(engine, {})[mode] = percentiles(spent)
        if engine != "goalsearch":
            agreement.setdefault(engine, {})[mode] = overlap(found[engine, mode], found["goalsearch", mode])
    result = {"order": "blocks" if blocks else "calls", "latency_ms": latency, "overlap@10_with_goalsearch": agreement, "build_s": baselines.build_s,
              "size_mb": baselines.size_mb, "tokenize_seven_fields_s": baselines.tokenize_s}
    if "tantivy" in built:
        result["goalsearch_over_tantivy_bm25"] = {p: round(latency["goalsearch"]["bm25"][p] / latency["tantivy"]["bm25"][p], 2)
                                                  for p in ("p50", "p95")}
    baselines.close()
    return result


def main() -> None:
    """Compare over an index built before (``bench.py --keep``): ``python benchmarks/compare.py DIR``."""
    import argparse
    import json
    from pathlib import Path

    from goalsearch import GoalSearch

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("index_dir")
    parser.add_argument("--engines", default="bm25s,tantivy,numpy")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--blocks", action="store_true", help="alternate whole passes, not single calls")
    parser.add_argument("--json")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent
    queries = [q["query"] for q in json.loads((root / "eval_queries.json").read_text("utf-8"))["queries"]]
    with GoalSearch.open(args.index_dir) as index:
        result = compare(index, queries, args.rounds, tuple(args.engines.split(",")), blocks=args.blocks)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text, "utf-8")


if __name__ == "__main__":
    main()
