"""``goalsearch index --ray``: the same index as a plain ``index``, built on a local Ray; a killed run publishes nothing.

Both builds run as the user runs them, in their own processes (``python -m goalsearch index …``), so
neither goes through this suite's embedding cache.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, SEED
from goalsearch.indexer import build_index, parse
from goalsearch.indexer.storage.vectors import load_vectors
from goalsearch.search import GoalSearch
from goalsearch.search.stats import check_index

pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # starts a local Ray and embeds the sample corpus twice

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["政务云运维", "社保卡", "为12345热线提供话务场地和坐席服务", "网络安全等级保护测评", "物业管理"]


def goalsearch(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "goalsearch", *args], cwd=ROOT, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def plain_and_ray(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ray")
    plain = goalsearch("index", str(SAMPLES), "--index-dir", str(folder / "plain"))
    assert plain.returncode == 0, plain.stderr
    on_ray = goalsearch("index", str(SAMPLES), "--ray", "--index-dir", str(folder / "ray"))
    assert on_ray.returncode == 0, on_ray.stderr
    summary = [run.stderr.splitlines()[-1].split(": ", 1)[1] for run in (plain, on_ray)]
    assert summary[0] == summary[1]  # "314 records from 5 files (314 added, …, 614 texts embedded)"
    return folder / "plain", folder / "ray"


def test_ray_index_is_clean_and_equals_a_plain_one(plain_and_ray):
    plain, on_ray = plain_and_ray
    assert check_index(on_ray) == []
    assert goalsearch("check", "--index-dir", str(on_ray)).returncode == 0
    with GoalSearch.open(plain) as a, GoalSearch.open(on_ray) as b:
        assert [r.to_dict() for r in a.records] == [r.to_dict() for r in b.records]
        assert a.manifest["model"] == b.manifest["model"] and a.manifest["id_order"] == b.manifest["id_order"]
        (va, ka), (vb, kb) = load_vectors(a.generation), load_vectors(b.generation)
        assert ka == kb
        assert np.abs(va - vb).max() < 1e-5
        for query in QUERIES:
            for mode in ("hybrid", "bm25", "semantic"):
                assert [(h.record.id, h.rank) for h in a.search(query, mode=mode, limit=10)] == \
                       [(h.record.id, h.rank) for h in b.search(query, mode=mode, limit=10)], (query, mode)


def test_killed_ray_run_leaves_the_previous_generation_live(tmp_path):
    records, report = parse(SEED["jm_2021"])
    build_index(records, tmp_path / "ix", [report])
    live = (tmp_path / "ix" / "CURRENT").read_text("utf-8")
    run = subprocess.Popen([sys.executable, "-m", "goalsearch", "index", str(SAMPLES), "--ray", "--index-dir", str(tmp_path / "ix")],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        # Killed once the term matrices are written: the Ray actors are embedding.
        while not list((tmp_path / "ix").glob("tmp-*/terms")) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, "the run ended before it could be killed"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
    finally:
        try:
            os.killpg(run.pid, signal.SIGKILL)  # the local Ray it started, if still there
        except ProcessLookupError:
            pass
    assert (tmp_path / "ix" / "CURRENT").read_text("utf-8") == live
    assert check_index(tmp_path / "ix") == []
    with GoalSearch.open(tmp_path / "ix") as index:
        assert [r.id for r in index.records] == [r.id for r in records]
    again = goalsearch("index", str(SEED["sz_2023"]), "--index-dir", str(tmp_path / "ix"))  # the lock went with it
    assert again.returncode == 0, again.stderr


def test_ray_option_that_swallowed_a_path_is_explained():
    result = goalsearch("index", "--ray", str(SAMPLES))
    assert result.returncode == 2
    assert f"--ray took {str(SAMPLES)!r} as the cluster address; put --ray after the paths, or write --ray=ADDRESS" in result.stderr


def test_manifest_json_is_plain(plain_and_ray):
    manifest = json.loads(next(plain_and_ray[1].glob("gen-*/manifest.json")).read_text("utf-8"))
    assert manifest["model"]["backend"] == "onnx-int8"


def test_ray_not_installed_is_one_line_and_builds_nothing(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from goalsearch.cli import cli

    monkeypatch.setitem(sys.modules, "ray", None)  # as if the [cluster] extra were not installed
    result = CliRunner().invoke(cli, ["index", str(SAMPLES), "--ray", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 2
    assert result.stderr == "Error: --ray needs Ray: pip install -e '.[cluster]' (see 'goalsearch index -h')\n"
    assert not (tmp_path / "ix").exists()
