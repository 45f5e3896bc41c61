"""The CLI through click's CliRunner: happy paths, one-line errors, and the README."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SEED

README = (Path(__file__).parent.parent / "README.md").read_text("utf-8")


def run(*args, index_dir=None):
    extra = ["--index-dir", str(index_dir)] if index_dir is not None else []
    return CliRunner().invoke(cli, list(args) + extra)


def test_first_search_builds_the_sample_index(first_search, monkeypatch):
    index_dir, result = first_search  # the session's sample index is built by this first search
    monkeypatch.setenv("GOALSEARCH_INDEX", str(index_dir))
    assert result.exit_code == 0
    assert "building one from the bundled sample corpus" in result.stderr
    assert any("政务云服务运维项目" in hit["name"] for hit in json.loads(result.stdout))
    again = CliRunner().invoke(cli, ["stats", "--format", "json"], catch_exceptions=False)
    assert "building" not in again.stderr and json.loads(again.stdout)["records"] == 314


def test_search_table_csv_and_explain(sample_index_dir):
    table = run("search", "社保卡", "--city", "深圳", "--explain", index_dir=sample_index_dir)
    assert table.exit_code == 0 and "人力资源综合管理" in table.stdout and "广州" not in table.stdout
    csv_out = run("search", "社保卡", "--format", "csv", "-n", "2", index_dir=sample_index_dir)
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("rank,score,bm25_rank") and len(lines) == 3
    assert "\x1b[" not in table.stdout  # no colour when not a terminal


def test_show_stats_check(sample_index_dir, sample_index):
    record = sample_index.find("人力资源综合管理")
    shown = json.loads(run("show", record.id, "--format", "json", index_dir=sample_index_dir).stdout)
    assert shown["indicators"] and shown["name"] == "人力资源综合管理"
    stats = json.loads(run("stats", "--format", "json", index_dir=sample_index_dir).stdout)
    assert stats["records"] == 314 and len(stats["files"]) == 5 and all(f["reconciled"] for f in stats["files"])
    assert stats["by_city"] == {"广州": 304, "深圳": 5, "江门": 5}
    assert stats["rows_read"] == stats["records"] + stats["rows_merged"] + stats["rows_skipped"]
    check = run("check", index_dir=sample_index_dir)
    assert check.exit_code == 0 and check.stdout.strip().endswith("ok")


@pytest.mark.parametrize("args, code, message", [
    (["search", "运维", "--years", "2026-2023"], 2, "Error: year range 2026-2023 is reversed; write it as 2023-2026"),
    (["search", "运维", "--years", "abc"], 2, "Error: years 'abc': write a year (2024) or a range (2023-2026)"),
    (["search", "运维", "--min-amount", "-5"], 2, "Error: --min-amount -5 is negative; amounts are in 万元 and ≥ 0"),
    (["search", "运维", "--min-amount", "9", "--max-amount", "1"], 2, "Error: amount range is reversed: --min-amount 9 > --max-amount 1"),
    (["search", "运维", "--year", "2024", "--years", "2023-2024"], 2, "Error: --year 2024 and --years 2023-2024 contradict each other"),
    (["search", "运维", "--year", "99999"], 2, "Error: Invalid value for '--year': 99999 is not in the range 1900<=x<=2200"),
    (["totals", "运维", "--year", "-1"], 2, "Error: Invalid value for '--year': -1 is not in the range 1900<=x<=2200"),
    (["search", "运维", "--years", "1-99999"], 2, "Error: years '1-99999': a year is between 1900 and 2200"),
    (["show", "nope"], 1, "Error: no project with id or name 'nope'; find it with `goalsearch search`"),
    (["similar", "没有这个项目"], 1, "Error: no project with id or name '没有这个项目'; find it with `goalsearch search`"),
    (["similar"], 2, "Error: give a project id or name, or --text with a description (not both)"),
    (["similar", "--text", "!!!"], 2, "Error: --text has no words to compare"),
    (["index"], 2, "Error: give the files or folders to index, e.g. goalsearch index indexer/samples"),
])
def test_errors_are_one_line(sample_index_dir, args, code, message):
    result = run(*args, index_dir=sample_index_dir)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_model_messages_quote_whole_commands_and_name_every_model(sample_index_dir, tmp_path):
    result = run("check", "--model", "/nonexistent", index_dir=sample_index_dir)
    assert result.exit_code == 1 and "fix: `goalsearch index --rebuild PATH --model /nonexistent`" in result.stderr
    result = run("index", str(SEED["jm_2021"]), "--model", "fsat", index_dir=tmp_path / "index")
    assert result.exit_code == 2 and "or 'fast'" in result.stderr and not (tmp_path / "index" / "CURRENT").exists()


def test_missing_index_for_show_builds_nothing_but_answers(tmp_path):
    result = run("check", index_dir=tmp_path / "none")
    assert result.exit_code == 1 and f"problem: no index at {tmp_path / 'none'}" in result.stderr


@pytest.mark.slow
def test_index_reports_bad_files_and_goes_on(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "binary.bin").write_bytes(b"\x00\x01" * 100)
    (docs / "gbk.txt").write_bytes((Path(__file__).parent.parent / "indexer/samples/002_745d9ae431b7d0e5.txt").read_text("utf-8").encode("gbk"))
    result = run("index", str(docs), index_dir=tmp_path / "index")
    assert result.exit_code == 1
    assert "binary file, not a text budget document" in result.stderr
    assert "5 records from 2 files" in result.stderr
    stats = json.loads(run("stats", "--format", "json", index_dir=tmp_path / "index").stdout)
    assert sorted(f["status"] for f in stats["files"]) == ["failed", "indexed"]


def test_help_works_with_h_and_every_command_has_examples():
    assert CliRunner().invoke(cli, ["-h"]).exit_code == 0
    for name, command in cli.commands.items():
        assert command.help, name
        assert CliRunner().invoke(cli, [name, "-h"]).exit_code == 0


def test_readme_documents_every_command_and_the_test_command():
    for name in cli.commands:
        assert re.search(rf"goalsearch {name}\b", README), name
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text("utf-8")
    test_command = re.search(r"```sh\n# run the tests\n(.+)\n```", README).group(1)
    assert test_command in ci
