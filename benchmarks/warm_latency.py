"""Warm latency of one goalsearch tree on one index, for comparing two commits in alternation.

    python benchmarks/warm_latency.py CODE_ROOT INDEX_DIR   # prints {"bm25": [ms...], "semantic": [...], "hybrid": [...]}

The loop is bench.py's: the 42 queries of ``eval_queries.json`` (this script's tree's copy, so both trees run the
same queries), three passes per mode, highlights off, after three warm-up queries in every mode. Run it for the two
trees one after the other, several times, so that both see the same machine (benchmarks/README.md, issue #18).
The output also names the file the search package was imported from (``"tree"``), so a run says which code it timed.
"""
from __future__ import annotations

import atexit
import importlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent.parent


def import_search(root: str | Path) -> ModuleType:
    """The search package of the tree at ``root``, whatever ``goalsearch`` is installed.

    Since the repository's root is the package ``goalsearch`` (pyproject's package-dir), putting the root itself on
    sys.path selects nothing: ``import goalsearch`` still found the installed one (the main checkout's editable
    install). A scratch folder holding a symlink named ``goalsearch`` to the root, first on sys.path, selects the
    given tree. Trees from before that change (no ``__init__.py`` at the root) had ``search`` as a top-level package.
    """
    root = Path(root).resolve()
    if (root / "__init__.py").exists():
        folder = Path(tempfile.mkdtemp(prefix="goalsearch-tree-"))
        atexit.register(shutil.rmtree, folder, True)  # removes the link, never what it points to
        (folder / "goalsearch").symlink_to(root, target_is_directory=True)
        sys.path.insert(0, str(folder))
        return importlib.import_module("goalsearch.search")
    sys.path.insert(0, str(root))
    return importlib.import_module("search")


def main() -> None:
    root, index_dir = sys.argv[1], sys.argv[2]
    search = import_search(root)
    queries = [q["query"] for q in json.loads((HERE / "benchmarks" / "eval_queries.json").read_text("utf-8"))["queries"]]
    index = search.GoalSearch.open(index_dir)
    for query in queries[:3]:
        [index.search(query, mode=mode) for mode in ("bm25", "semantic", "hybrid")]
    times: dict = {"tree": str(Path(search.__file__).resolve())}
    for mode in ("bm25", "semantic", "hybrid"):
        times[mode] = []
        for _ in range(3):
            for query in queries:
                started = time.perf_counter()
                index.search(query, mode=mode, limit=10, highlight=False)
                times[mode].append(round((time.perf_counter() - started) * 1000, 3))
    print(json.dumps(times))


if __name__ == "__main__":
    main()
