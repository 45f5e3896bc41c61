"""Text from documents never reaches a terminal as control sequences (``cli_safe``).

A document off the open web can hold ``ESC[2J``, an OSC 0 title, an OSC 8 link, a carriage return, a bidi
override. The commands are run in a real pseudo-terminal (rich colours, as a user sees them) and their
bytes are searched for what the document held.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import form_renderings as fr
from goalsearch.cli import cli
from goalsearch.cli_safe import json_text, visible
from goalsearch.indexer import parse_text

ROOT = Path(__file__).resolve().parent.parent
CLEAR, TITLE, LINK = "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]8;;http://evil.example/\x1b\\点这里\x1b]8;;\x1b\\"
HOSTILE_NAME = f"政务云{CLEAR}运维{TITLE}服务项目"
HOSTILE_GOAL = f"保障政务云平台稳定运行{LINK}，\r覆盖原有行\u202e反向文字\x9b31m。"
PLANTED = [CLEAR.encode(), b"\x1b]0;", b"\x1b]8;", "\u202e".encode(), "\x9b".encode(), "反向文字".encode() + b"\r"]


def hostile_form() -> str:
    indicators = [fr.IndicatorSpec("产出指标", "数量指标", f"云主机台数{CLEAR}", "≥10台"),
                  fr.IndicatorSpec("满意度指标", "服务对象满意度指标", "使用单位满意度", f"≥90%{TITLE}")]
    spec = fr.FormSpec("goal_form", 2025, HOSTILE_NAME, "某市信息中心", "某市政务服务数据管理局", 120.0, HOSTILE_GOAL,
                       indicators)
    return fr.cells(fr.grid(spec))


def in_a_terminal(args: list[str], columns: int | None = 80) -> bytes:
    """What ``goalsearch ARGS`` writes to a pseudo-terminal (stdout and stderr); ``columns`` None leaves
    ``$COLUMNS`` unset, so the width is the terminal's own (a new pseudo-terminal reports 0)."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), TERM="xterm-256color", FORCE_COLOR="1")
    if columns is None:
        del env["COLUMNS"]
    process = subprocess.Popen([sys.executable, "-m", "goalsearch", *args], cwd=ROOT, stdin=slave, stdout=slave, stderr=slave,
                               env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    process.wait(timeout=60)
    os.close(master)
    return out


def test_the_parser_keeps_the_text_as_it_was():
    records, _ = parse_text(hostile_form(), "hostile.txt")
    assert records[0].name == HOSTILE_NAME and records[0].goal == HOSTILE_GOAL  # stored whole; shown safe


def test_visible_keeps_lengths_and_json_stays_the_data():
    assert visible(HOSTILE_GOAL).count("\x1b") == 0 and len(visible(HOSTILE_GOAL)) == len(HOSTILE_GOAL)
    assert json.loads(json_text({"goal": HOSTILE_GOAL})) == {"goal": HOSTILE_GOAL}
    assert "\x1b" not in json_text({"goal": HOSTILE_GOAL}) and "\u202e" not in json_text({"goal": HOSTILE_GOAL})
    with pytest.raises(ValueError):
        json_text({"amount": float("inf")})


@pytest.mark.slow
def test_no_escape_sequence_from_a_document_reaches_the_terminal(tmp_path):
    document = tmp_path / f"hostile{CLEAR}\nforged line.txt"
    document.write_text(hostile_form(), "utf-8")
    index = tmp_path / "ix"
    built = CliRunner().invoke(cli, ["index", str(document), "--index-dir", str(index)])
    assert built.exit_code == 0, built.output
    screens = {
        "parse": in_a_terminal(["parse", str(document)]),
        "search": in_a_terminal(["search", "政务云运维", "--index-dir", str(index)]),
        "show": in_a_terminal(["show", HOSTILE_NAME, "--index-dir", str(index)]),
        "family": in_a_terminal(["family", HOSTILE_NAME, "--index-dir", str(index)]),
        "totals": in_a_terminal(["totals", "政务云运维", "--by", "unit", "--ids", "--index-dir", str(index)]),
        "csv": in_a_terminal(["search", "政务云运维", "--format", "csv", "--index-dir", str(index)]),
        "json": in_a_terminal(["search", "政务云运维", "--format", "json", "--index-dir", str(index)]),
    }
    for command, screen in screens.items():
        assert "运维".encode() in screen, (command, screen[:300])
        found = [planted for planted in PLANTED if planted in screen]
        assert found == [], (command, found)
    assert b"\nforged line.txt" not in screens["parse"]  # a file name cannot start a line of its own


# -- what a document cannot make the parser do ------------------------------------------------------
_HEADER = "部门预算项目支出及其他支出预算表\n项目名称\t合计\t财政拨款\t绩效目标\n"


@pytest.mark.parametrize("cell", ["12.00元", "1,2345.00", "1" + "0" * 400])
def test_an_unreadable_amount_never_becomes_the_name(cell):
    records, report = parse_text(_HEADER + f"某单位\t运维项目\t{cell}\t12.00\t保障系统运行\n", "x.txt")
    assert records == [] and any("amount cell that is not a number" in s.reason for s in report.skips)


def test_a_negative_amount_is_kept_with_a_warning():
    records, _ = parse_text(_HEADER + "某单位\t退库项目\t-5.00\t-5.00\t退回资金\n", "x.txt")
    assert records[0].amount == -5.0 and "a negative amount, as the document states it" in records[0].warnings


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\x1c", "\r"])
def test_a_goal_is_not_cut_at_a_separator_inside_it(separator):
    goal = f"第一句。{separator}第二句，保障系统运行。"
    records, _ = parse_text(_HEADER + f"某单位\t运维项目\t12.00\t12.00\t{goal}\n", "x.txt")
    assert records[0].goal.endswith("第二句，保障系统运行。")


def test_a_file_over_its_budget_is_one_line_and_the_batch_goes_on(tmp_path, monkeypatch):
    from goalsearch.indexer import parse_paths

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from parse_attacks import nested_forms

    (tmp_path / "a_nested.pdf").write_bytes(nested_forms(depth=6))
    sample = Path(__file__).resolve().parent.parent / "indexer" / "samples" / "002_745d9ae431b7d0e5.txt"
    (tmp_path / "b_sample.txt").write_bytes(sample.read_bytes())
    monkeypatch.setenv("GOALSEARCH_PARSE_SECONDS", "2")
    records, reports = parse_paths([tmp_path])
    assert "took more than 2 s to parse" in reports[0].error and "\n" not in reports[0].error
    assert reports[1].ok and len(records) == 5
    monkeypatch.setenv("GOALSEARCH_PARSE_SECONDS", "60")
    monkeypatch.setenv("GOALSEARCH_PARSE_MEMORY_MB", "1")
    result = CliRunner().invoke(cli, ["parse", str(tmp_path / "b_sample.txt")])
    assert result.exit_code == 1 and "needs more than" in result.stderr and "MB to parse" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_pdf_that_runs_out_of_memory_prints_one_line_and_no_child_traceback(tmp_path):
    """The child that parses writes nothing itself: a MemoryError, even one raised while reporting, is the
    parent's one line. Before, a traceback of ``ForkServerProcess-1`` reached the terminal whenever the
    child ran out of memory while sending its error back (this attack at 384 MB: about one run in two)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from parse_attacks import many_operators

    (tmp_path / "operators.pdf").write_bytes(many_operators(300_000))
    env = dict(os.environ, GOALSEARCH_PARSE_MEMORY_MB="384", GOALSEARCH_PARSE_SECONDS="120")
    done = subprocess.run([sys.executable, "-c", "from goalsearch.cli import main; main()", "parse", str(tmp_path / "operators.pdf")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "needs more than 385 MB" in done.stderr, done.stderr


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.slow
def test_csv_output_holds_no_formula_a_spreadsheet_would_run(tmp_path):
    """A unit of ``=HYPERLINK(…)`` was written as it was by every ``--format csv`` (the web download already
    prefixed it): Excel runs such a cell. Each text cell that starts like a formula now starts with ``'``."""
    formulas = {"name": "+cmd|' /C calc'!A0 政务云运维项目", "unit": '=HYPERLINK("http://evil.example","点这里")信息中心',
                "department": "@SUM(1)政务服务数据管理局", "goal": "-1+1 保障政务云平台稳定运行。"}
    spec = fr.FormSpec("goal_form", 2025, formulas["name"], formulas["unit"], formulas["department"], 120.0,
                       formulas["goal"], [fr.IndicatorSpec("产出指标", "数量指标", "云主机台数", "≥10台")])
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "formulas.txt").write_text(fr.cells(fr.grid(spec)), "utf-8")
    index = tmp_path / "index"
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(folder), "--index-dir", str(index)]).exit_code == 0
    commands = [["search", "政务云运维"], ["search"], ["totals", "政务云运维", "--by", "unit", "--by", "department"],
                ["families", "--min-members", "1", "--min-years", "1"]]
    for command in commands:
        result = runner.invoke(cli, [*command, "--format", "csv", "--index-dir", str(index)])
        assert result.exit_code == 0, result.output
        cells = [cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row]
        risky = [c for c in cells if c.startswith(("=", "+", "-", "@")) and not _is_number(c)]
        assert not risky, (command, risky)
        shown = {value for value in formulas.values() if "'" + value in cells}
        assert shown, (command, "the hostile text is kept, behind a quote")


def test_a_terminal_that_reports_no_width_gets_80_columns():
    """A new pseudo-terminal (``script``, a container) reports 0 columns: the report on stderr is laid out for 80,
    not cut every two characters."""
    master, slave = pty.openpty()
    assert os.get_terminal_size(slave).columns == 0
    os.close(master), os.close(slave)
    out = in_a_terminal(["parse", "indexer/samples/002_745d9ae431b7d0e5.txt"], columns=None).decode("utf-8", "replace")
    assert "002_745d9ae431b7d0e5.txt: 2 tables, 11 rows read = 5 records + 1 merged + 5" in out, out[-600:]
