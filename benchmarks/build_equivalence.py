"""Do two trees' builds answer every query alike? Search results of this tree's index against another's (issue #32).

    GOALSEARCH_HOME=/tmp/gshome python benchmarks/build_equivalence.py --base /work/wt-build-base --projects 3000

Each tree (in its own process, as ``build_speed.py`` runs them) builds
- the sample corpus with the default model, searched with the dev queries (``dev_queries.json``)
  and the syntax queries (``syntax_queries.json``) in every mode (hybrid, bm25, semantic);
- ``--projects`` synthetic records (``bench.synthetic_records``, hashed vectors), then an update
  that replaces the records of one source, each searched with the same queries in bm25 mode
  (the vectors mean nothing there).
A result is each hit's id and its scores (rounded to 6 places), the first 20 per query. The script
prints the queries whose results differ (none when the builds are equivalent) and exits 1 if any do.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from build_speed import DIMENSION, HashEmbedder, _select_tree  # noqa: E402

MODES = ("hybrid", "bm25", "semantic")


def queries() -> list[str]:
    dev = json.loads((ROOT / "benchmarks" / "dev_queries.json").read_text("utf-8"))["queries"]
    syntax = json.loads((ROOT / "benchmarks" / "syntax_queries.json").read_text("utf-8"))["queries"]
    return [q["query"] for q in dev] + list(syntax)


def answers(index_dir: Path, modes: tuple[str, ...]) -> dict[str, list]:
    from goalsearch.search import GoalSearch

    out = {}
    with GoalSearch.open(index_dir) as search:
        for mode in modes:
            for query in queries():
                hits = search.search(query, mode=mode, limit=20, highlight=False)
                out[f"{mode}\t{query}"] = [[h.record.id, round(h.score, 6), h.bm25_rank,
                                            None if h.bm25_score is None else round(h.bm25_score, 6)] for h in hits]
    return out


def child(tree: Path, records_file: Path) -> dict:
    _select_tree(tree)
    from goalsearch.indexer import Record, build_index, index_paths
    from goalsearch.indexer.models import ModelInfo
    from goalsearch.search import sample_corpus

    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        index_paths([sample_corpus()], Path(tmp) / "sample")
        result["sample"] = answers(Path(tmp) / "sample", MODES)
        records = [Record.from_dict(r) for r in json.loads(records_file.read_text("utf-8"))]
        embedder = HashEmbedder(ModelInfo("hash", DIMENSION, "query: ", "passage: "))
        build_index(records, Path(tmp) / "synthetic", embedder=embedder)
        result["synthetic"] = answers(Path(tmp) / "synthetic", ("bm25",))
        source = records[0].source
        changed = [Record.from_dict(dict(r.to_dict(), goal=r.goal[::-1])) for r in records if r.source == source]
        build_index(changed, Path(tmp) / "synthetic", embedder=embedder)
        result["synthetic updated"] = answers(Path(tmp) / "synthetic", ("bm25",))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the tree to compare with")
    parser.add_argument("--projects", type=int, default=3000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--records", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        Path(args.out).write_text(json.dumps(child(Path(args.child), Path(args.records)), ensure_ascii=False), "utf-8")
        return
    from bench import synthetic_records

    records, _ = synthetic_records(args.projects)
    with tempfile.TemporaryDirectory() as tmp:
        records_file = Path(tmp) / "records.json"
        records_file.write_text(json.dumps([r.to_dict() for r in records], ensure_ascii=False), "utf-8")
        results = {}
        for name, tree in (("base", Path(args.base)), ("this", ROOT)):
            out = Path(tmp) / f"{name}.json"
            subprocess.run([sys.executable, __file__, "--base", args.base, "--child", str(tree),
                            "--records", str(records_file), "--out", str(out)], check=True)
            results[name] = json.loads(out.read_text("utf-8"))
    differing = 0
    for index, answered in results["base"].items():
        for key, hits in answered.items():
            if results["this"][index].get(key) != hits:
                differing += 1
                print(f"{index}: {key!r} differs", file=sys.stderr)
        compared = len(answered)
        print(f"{index}: {compared} query×mode results compared, "
              f"{sum(1 for k, h in answered.items() if results['this'][index].get(k) != h)} differ")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
