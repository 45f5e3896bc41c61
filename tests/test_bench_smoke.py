"""The scaling benchmark runs end to end at a small size, so it cannot rot (no timing is asserted)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow  # every test here builds an index


def test_benchmark_runs_at_200_projects(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--projects", "200", "--rounds", "1",
                    "--embed-sample", "4", "--queries", "12", "--faiss", "--json", str(out)], check=True, capture_output=True, cwd=ROOT)
    result = json.loads(out.read_text("utf-8"))
    assert result["projects"] == 200
    assert {"bm25", "semantic", "hybrid"} <= set(result["latency_ms"])
    engines = result["engines"]  # the engines installed: bm25s and numpy at least (the test extra); tantivy, LanceDB with [bench]
    assert {"goalsearch", "bm25s", "numpy"} <= set(engines["latency_ms"])
    assert 0 <= engines["overlap@10_with_goalsearch"]["bm25s"]["bm25"] <= 1
    assert result["faiss"][0]["recall@10_vs_exact"] > 0.99
    assert result["size_mb"]["fulltext"] > 0


def test_warm_latency_times_the_tree_it_is_given(tmp_path):
    """The root is the package goalsearch, so sys.path.insert(root) once timed the installed tree, not the given one."""
    tree = tmp_path / "tree"
    (tree / "search").mkdir(parents=True)
    (tree / "__init__.py").write_text("", "utf-8")
    (tree / "search" / "__init__.py").write_text(
        "class GoalSearch:\n"
        "    @classmethod\n"
        "    def open(cls, index_dir):\n"
        "        return cls()\n"
        "    def search(self, query, **options):\n"
        "        return []\n", "utf-8")
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "warm_latency.py"), str(tree), str(tmp_path / "no-index")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert Path(result["tree"]).resolve() == (tree / "search" / "__init__.py").resolve()
    assert len(result["hybrid"]) == 3 * 42
