"""What a new user meets: flags honoured or refused in one line, lists that mean what they say, an update
that changes nothing writing nothing."""
from __future__ import annotations

import subprocess
from pathlib import Path
import sys

import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SEED
from goalsearch.indexer import UsageError


def run(*args, **env):
    return CliRunner(env=env or None).invoke(cli, [str(a) for a in args])


def test_similar_text_refuses_the_flags_that_need_a_project(sample_index):
    for flag in ("other_cities", "other_years", "include_family"):
        with pytest.raises(UsageError, match="a --text has none"):
            sample_index.similar(text="为12345热线提供话务场地和坐席服务", **{flag: True})


def test_similar_text_flag_is_one_line_on_the_command_line(sample_index_dir):
    result = run("similar", "--text", "热线话务服务", "--other-cities", "--index-dir", sample_index_dir)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "a --text has none" in result.stderr


@pytest.mark.slow
def test_indexing_unchanged_files_again_writes_nothing(tmp_path):
    index = tmp_path / "ix"
    first = run("index", SEED["jm_2021"], SEED["sz_2023"], "--index-dir", index)
    assert first.exit_code == 0, first.output
    before = {p.relative_to(index): p.read_bytes() for p in index.rglob("*") if p.is_file()}
    again = run("index", SEED["jm_2021"], "--index-dir", index)
    assert again.exit_code == 0
    assert "nothing changed" in again.stderr and "0 added, 0 replaced or removed, 0 texts embedded" in again.stderr
    assert {p.relative_to(index): p.read_bytes() for p in index.rglob("*") if p.is_file()} == before
    stats = run("stats", "--format", "json", "--index-dir", index)
    assert '"reconciled": true' in stats.stdout and '"reconciled": false' not in stats.stdout


@pytest.mark.slow
def test_counts_read_as_english(tmp_path):
    result = run("index", SEED["jm_2021"], "--index-dir", tmp_path / "one")
    assert "5 records from 1 file (5 added" in result.stderr and "1 files" not in result.stderr


def test_import_goalsearch_is_not_shadowed_by_a_users_own_modules(tmp_path):
    """The API under a name of its own: a user's search.py, cli.py or indexer.py beside their script is
    never imported in place of ours (they once were: the package's modules were top-level names)."""
    for name in ("search.py", "cli.py", "indexer.py", "cli_render.py", "goalsearch_helpers.py"):
        (tmp_path / name).write_text("raise SystemExit('a user module was imported instead of goalsearch')\n")
    code = ("from goalsearch import GoalSearch, index_paths, parse\n"
            "from goalsearch.search import AmbiguousRecord\n"
            "import goalsearch.cli\n"
            "print(GoalSearch.__module__, parse.__module__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["goalsearch.search.api", "goalsearch.indexer.parse.document"]
    done = subprocess.run([sys.executable, "-m", "goalsearch", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "Usage: " in done.stdout, done.stderr


def test_a_script_without_a_main_guard_parses_and_runs_once(tmp_path):
    """Each file is parsed in a fork-server child; multiprocessing would run the caller's script again in
    it, so a script without ``if __name__ == "__main__":`` (the README's API example) made every child die
    and every file was reported over its memory budget. The script runs once and its files parse."""
    (tmp_path / "script.py").write_text(
        "from goalsearch import parse_paths\n"
        "from goalsearch.search import sample_corpus\n"
        "print('script ran')\n"
        "records, reports = parse_paths([sample_corpus() / '002_745d9ae431b7d0e5.txt'])\n"
        "print(len(records), reports[0].error)\n", "utf-8")
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["script ran", "5 None"]


def test_samples_names_the_bundled_documents_from_any_folder(tmp_path, monkeypatch):
    """The quick start's `goalsearch parse indexer/samples` worked only inside a checkout; the samples
    command names the installed folder, wherever the user stands."""
    monkeypatch.chdir(tmp_path)
    folder = run("samples").stdout.strip()
    assert sorted(p.name for p in Path(folder).glob("*.txt")) == sorted(p.name for p in SEED.values())
    parsed = run("parse", folder, "--format", "jsonl")
    assert parsed.exit_code == 0 and len(parsed.stdout.splitlines()) == 314
