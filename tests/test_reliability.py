"""The index survives crashes, tampering and concurrent writers."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEED
from goalsearch.indexer import IndexCorrupt, IndexLocked, index_paths
from goalsearch.indexer.storage.lock import write_lock
from goalsearch.search import GoalSearch, check_index

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow  # every test here builds an index


HOLD_LOCK = ("import sys, time; from pathlib import Path; from goalsearch.indexer.storage.lock import write_lock\n"
             "with write_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)")


def test_second_writer_is_refused_with_the_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexLocked, match=f"locked by PID {holder.pid}"):
            index_paths([SEED["jm_2021"]], tmp_path)
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_writer_is_released_by_the_system(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    index_paths([SEED["jm_2021"]], tmp_path)
    with write_lock(tmp_path):
        assert json.loads((tmp_path / "LOCK").read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("content", ['{"pid": -1}', '{"pid": 0}', '{"pid": 99999999999999999999}', "", "garbage"])
def test_lock_file_contents_never_decide_who_holds_it(tmp_path, content):
    """The PID only names a holder: whatever the file says, an unheld lock is taken (#14, 5)."""
    (tmp_path / "LOCK").write_text(content)
    with write_lock(tmp_path):
        assert json.loads((tmp_path / "LOCK").read_text())["pid"] == os.getpid()


HAMMER = """
import os, sys, time
from pathlib import Path
from goalsearch.indexer.storage.lock import write_lock
from goalsearch.indexer import IndexLocked
folder, seconds = Path(sys.argv[1]), float(sys.argv[2])
marker = folder / "holder"
doubles = held = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        with write_lock(folder):
            held += 1
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                doubles += 1
                continue
            os.close(fd)
            os.unlink(marker)
    except IndexLocked:
        pass
print(held, doubles)
"""


@pytest.mark.slow
def test_six_processes_hammering_the_lock_for_20_seconds_are_never_two_holders(tmp_path):
    """#14, 5: the PID lock had 129 double holders in 20 s; flock has none."""
    workers = [subprocess.Popen([sys.executable, "-c", HAMMER, str(tmp_path), "20"], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True) for _ in range(6)]
    counts = [tuple(map(int, w.communicate()[0].split())) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(held for held, _ in counts) > 6  # every process took it at least once
    assert sum(doubles for _, doubles in counts) == 0


def test_tampered_file_is_refused_not_executed(tmp_path):
    index_paths([SEED["jm_2021"]], tmp_path)
    generation = next(tmp_path.glob("gen-*"))
    toc = next((generation / "fulltext").glob("_MAIN_*.toc"))
    toc.write_bytes(b"cos\nsystem\n(S'touch /tmp/pwned'\ntR.")
    with GoalSearch.open(tmp_path) as index:
        assert index.search("社保卡", mode="bm25")  # plain queries use the term matrices: no pickle read
        with pytest.raises(IndexCorrupt, match="does not match the manifest"):
            index.search("name:社保卡", mode="bm25")  # Whoosh is checked before it opens
    assert not Path("/tmp/pwned").exists()
    assert check_index(tmp_path)[0].endswith("run `goalsearch index --rebuild`")


def test_tampered_vector_index_is_refused_before_faiss_reads_it(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from goalsearch.cli import cli
    from goalsearch.indexer.storage.vectors import vector_settings

    monkeypatch.setitem(vector_settings(), "approximate_min_records", 1)
    index_paths([SEED["jm_2021"]], tmp_path)
    ivf = next(tmp_path.glob("gen-*/vectors.ivf"))
    data = bytearray(ivf.read_bytes())
    data[-10] ^= 1  # inside the stored row ids: faiss would read it and return rows that do not exist
    ivf.write_bytes(bytes(data))
    with GoalSearch.open(tmp_path) as index:
        assert index.search("社保卡", mode="bm25")  # the lexical side does not need the vectors
        with pytest.raises(IndexCorrupt, match="vectors.ivf does not match the manifest"):
            index.search("社保卡", mode="semantic")
    result = CliRunner().invoke(cli, ["search", "社保卡", "--index-dir", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "vectors.ivf does not match the manifest" in result.output


def test_killed_indexing_leaves_the_previous_index_searchable(tmp_path):
    index_dir = tmp_path / "index"
    index_paths([SEED["jm_2021"]], index_dir)
    script = ("import sys; from goalsearch.indexer import index_paths; "
              f"index_paths([{str(SEED['gz_hrss_2024'])!r}, {str(SEED['gz_zwfw_2026'])!r}], {str(index_dir)!r}, rebuild=True)")
    for delay in (0.5, 1.5, 3.0):
        process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with GoalSearch.open(index_dir) as index:
            count = len(index.records)
            assert count in (5, 284)
            assert index.search("运维", limit=3)
        assert check_index(index_dir) == []
    index_paths([SEED["jm_2021"]], index_dir, rebuild=True)  # and the stale lock does not block the next writer
    assert not list(index_dir.glob("tmp-*"))


def test_searches_keep_working_while_another_process_rebuilds(tmp_path):
    index_dir = tmp_path / "index"
    index_paths([SEED["jm_2021"], SEED["sz_2023"]], index_dir)
    script = ("from goalsearch.indexer import index_paths\n"
              f"for _ in range(3): index_paths([{str(SEED['jm_2021'])!r}, {str(SEED['sz_2023'])!r}], {str(index_dir)!r}, rebuild=True)")
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    searches = 0
    try:
        while writer.poll() is None or searches < 5:
            with GoalSearch.open(index_dir) as index:
                assert len(index.records) == 10
                assert index.search("社保卡", limit=3)
            searches += 1
    finally:
        writer.wait()
    assert writer.returncode == 0 and searches >= 5


def test_index_from_another_model_is_refused_in_one_line(tmp_path):
    index_paths([SEED["jm_2021"]], tmp_path)
    generation = next(tmp_path.glob("gen-*"))
    manifest = json.loads((generation / "manifest.json").read_text("utf-8"))
    manifest["model"].update(name="bge-small-zh-v1.5", dimension=512)
    (generation / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    from goalsearch.indexer import IndexIncompatible

    with GoalSearch.open(tmp_path) as index:
        assert index.search("社保卡", mode="bm25")  # words still work
        with pytest.raises(IndexIncompatible, match="was built with bge-small-zh-v1.5 \\(512-d\\)"):
            index.search("社保卡", mode="hybrid")
    assert any("bge-small-zh-v1.5" in p for p in check_index(tmp_path))


def test_index_location_that_is_a_file(tmp_path):
    from click.testing import CliRunner

    from goalsearch.cli import cli

    target = tmp_path / "afile"
    target.write_text("x")
    result = CliRunner().invoke(cli, ["stats", "--index-dir", str(target)])
    assert result.exit_code == 2 and "is a file" in result.stderr and "Traceback" not in result.output
    from goalsearch.indexer import IndexMissing

    with pytest.raises(IndexMissing, match="is a file, not a folder"):
        GoalSearch.open(target)


def test_check_hashes_every_file_search_only_the_pickled_ones(tmp_path):
    index_paths([SEED["jm_2021"]], tmp_path)
    generation = next(tmp_path.glob("gen-*"))
    with open(generation / "reports.json", "a", encoding="utf-8") as handle:
        handle.write(" ")
    with GoalSearch.open(tmp_path) as index:  # JSON is read without pickle: searching goes on
        assert index.search("社保卡", mode="bm25")
    problems = check_index(tmp_path)
    assert problems and "reports.json does not match the manifest" in problems[0]


# -- issue #28: nothing written outside the index and the home; a damaged model cache found and repaired ---
CLI = "from goalsearch.cli import main; main()"


def _model_home(tmp_path: Path) -> Path:
    """This run's converted model (int8 exported), its files hard-linked into a home of this test's own:
    a test damages a file by replacing it, never the run's (every writer of the cache renames new files in)."""
    from goalsearch.indexer.files import goalsearch_home
    from goalsearch.indexer.models.onnx_embedder import Backend, build_onnx_model

    build_onnx_model(Backend.ONNX_INT8)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(goalsearch_home() / "models", home / "models", copy_function=os.link)
    return home


def test_28_index_writes_nothing_outside_the_index_and_the_home(tmp_path):
    """onnxruntime's telemetry wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db}."""
    user_home = tmp_path / "user"
    user_home.mkdir()
    env = dict(os.environ, HOME=str(user_home), GOALSEARCH_HOME=str(_model_home(tmp_path)))
    done = subprocess.run([sys.executable, "-c", CLI, "index", str(SEED["jm_2021"]), "--index-dir", str(tmp_path / "ix")],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(str(p.relative_to(user_home)) for p in user_home.rglob("*")) == []


def test_28_a_truncated_model_file_is_found_by_check_and_repaired_by_model_build(tmp_path):
    home = _model_home(tmp_path)
    env = dict(os.environ, GOALSEARCH_HOME=str(home))
    goalsearch = lambda *args: subprocess.run([sys.executable, "-c", CLI, *map(str, args)], cwd=ROOT, env=env,  # noqa: E731
                                              capture_output=True, text=True)
    assert goalsearch("index", SEED["jm_2021"], "--index-dir", tmp_path / "ix").returncode == 0
    from goalsearch.indexer.models import default_model_dir

    tokenizer = home / "models" / default_model_dir().name / "tokenizer.json"  # not the fast model's
    data = tokenizer.read_bytes()
    tokenizer.unlink()  # a hard link to the run's: replaced, not written through
    tokenizer.write_bytes(data[:1000])
    checked = goalsearch("check", "--index-dir", tmp_path / "ix")
    assert checked.returncode == 1 and f"problem: model file {tokenizer} " in checked.stderr
    assert "run `goalsearch model build` to convert it again" in checked.stderr
    indexed = goalsearch("index", SEED["sz_2023"], "--index-dir", tmp_path / "ix")
    assert indexed.returncode == 1 and "Traceback" not in indexed.stderr
    assert indexed.stderr.strip().splitlines()[-1].startswith(f"Error: model file {tokenizer} ")
    built = goalsearch("model", "build")
    assert built.returncode == 0 and f"note: model file {tokenizer} " in built.stderr, built.stderr
    assert goalsearch("check", "--index-dir", tmp_path / "ix").returncode == 0
    assert goalsearch("index", SEED["sz_2023"], "--index-dir", tmp_path / "ix").returncode == 0


BUILD_MODEL = "from goalsearch.indexer.models import build_default_model; print(build_default_model())"


def test_28_two_first_runs_at_once_share_one_conversion(tmp_path):
    """Two real conversions at once crashed on their shared ``.tmp`` folder; now the second waits and reuses."""
    env = dict(os.environ, GOALSEARCH_HOME=str(tmp_path / "home"))
    runs = [subprocess.Popen([sys.executable, "-c", BUILD_MODEL], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-500:] for _, err in outputs]
    folder = Path(outputs[0][0].strip())
    from goalsearch.indexer.models.verify import folder_problems

    assert folder_problems(folder) == [] and not list(folder.parent.glob("*.tmp"))
