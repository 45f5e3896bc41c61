"""Every screen read at 80 and 100 columns (issue 29): long Chinese names and goals wrapped by display cells
and by the Chinese line breaking rules, through the CLI.

A screen passes when no line is wider than the terminal (CJK characters take two cells), no line starts with
closing punctuation (``、，。；》）``), no number is split across two lines, and no name is cut (``…``).
"""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rich.cells import cell_len

import form_renderings as fr
from goalsearch.cli import cli

WIDTHS = [80, 100]
CLOSING = "、，。；》）"
NUMBER = re.compile(r"\d[\d,.%\-]*\d")
UNIT = "广州市人力资源和社会保障数据服务中心（广州市社会保障卡管理中心、市民卡服务中心）"
OTHER_UNIT = "深圳市人力资源和社会保障数据管理中心（深圳市社会保障信息化工作领导小组办公室）"
NAME = ("广州市人力资源和社会保障数据服务中心2026-2027年度全市社会保障卡一卡通服务管理平台（第二期）"
        "扩容升级改造及运行维护项目")
OTHER_NAME = "深圳市人力资源和社会保障数据管理中心2025年度社会保障卡一卡通服务管理平台扩容升级改造项目（续建）"
GOAL = ("按照《广州市数字政府政务云管理运营改革方案（2022-2025）》的相关要求，完成全市12345热线、社会保障卡"
        "一卡通服务管理平台共计1,234,567.89万条数据的迁移、清洗和治理，系统可用率不低于99.95%，"
        "故障响应时间不超过30分钟；完成2026-2027年度3,600个网点、10,000台自助终端的运行维护，"
        "服务对象满意度达到95%以上。")
CHANGED_GOAL = GOAL.replace("10,000台", "12,500台").replace("95%", "98%")


def form(year: int, name: str, unit: str, goal: str, amount: float) -> str:
    indicators = [fr.IndicatorSpec("产出指标", "数量指标", "完成社会保障卡一卡通服务网点运行维护的数量（2026-2027年度）",
                                   "≥3,600个"),
                  fr.IndicatorSpec("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥95%")]
    spec = fr.FormSpec("goal_form", year, name, unit, "广州市人力资源和社会保障局", amount, goal, indicators)
    return fr.cells(fr.grid(spec))


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> Path:
    """Three forms in files with long Chinese names: one project in 2025 and 2026 (a family whose goal
    changed), and another unit's project with nearly the same goal (a near-duplicate)."""
    folder = tmp_path_factory.mktemp("screens-docs")
    files = {
        "广州市人力资源和社会保障数据服务中心2025年度项目支出绩效目标申报表（社会保障卡一卡通）.txt":
            form(2025, NAME.replace("2026-2027", "2025-2026"), UNIT, GOAL, 1234.56),
        "广州市人力资源和社会保障数据服务中心2026年度项目支出绩效目标申报表（社会保障卡一卡通）.txt":
            form(2026, NAME, UNIT, CHANGED_GOAL, 23456.78),
        "深圳市人力资源和社会保障数据管理中心2025年度项目支出绩效目标申报表.txt":
            form(2025, OTHER_NAME, OTHER_UNIT, GOAL.replace("广州市", "深圳市"), 345.6),
    }
    for file_name, text in files.items():
        (folder / file_name).write_text(text, "utf-8")
    return folder


@pytest.fixture(scope="module")
def screens_index(documents, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("screens") / "index"
    built = CliRunner().invoke(cli, ["index", str(documents), "--index-dir", str(index_dir)])
    assert built.exit_code == 0, built.output
    return index_dir


def screen(args: list[str], columns: int) -> str:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def breaking_rules_hold(text: str, columns: int, names: list[str], values: list[str]) -> None:
    """No line wider than ``columns``; none starting with closing punctuation; every number of ``values`` that
    the screen shows is shown on one line; every name of ``names`` whole (wrapped, never cut)."""
    lines = text.splitlines()
    assert lines
    assert max(cell_len(line) for line in lines) <= columns, max(lines, key=cell_len)
    assert [line for line in lines if line.strip()[:1] in set(CLOSING)] == []
    joined = "".join(line.strip() for line in lines)
    for value in values:
        for number in NUMBER.findall(value):
            if number in joined:
                assert any(number in line for line in lines), f"{number} is split across two lines"
    numbers = [number for value in values for number in NUMBER.findall(value)]
    for before, after in zip(lines, lines[1:]):  # a digit ending a line, one starting the next, in one number
        tail, head = re.search(r"[\d,.%\-]*$", before.rstrip()).group(), re.match(r"[\d,.%\-]*", after.lstrip()).group()
        if tail[-1:].isdigit() and head[:1].isdigit() and (tail, head) != (before.strip(), after.strip()):  # not a list
            assert not any(tail + head in number for number in numbers), (before, after)
    for name in names:
        assert name in joined, f"{name} is not shown whole"
        assert name[:8] + "…" not in joined


@pytest.mark.slow
@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("command", ["search", "show", "family", "duplicates", "similar"])
def test_index_screens_keep_the_rules(screens_index, columns, command):
    args = {"search": ["search", "社会保障卡一卡通 运行维护"], "show": ["show", NAME], "family": ["family", NAME],
            "duplicates": ["duplicates"], "similar": ["similar", NAME]}[command]
    names = {"search": [NAME, OTHER_NAME], "show": [NAME], "family": [NAME], "duplicates": [NAME, OTHER_NAME],
             "similar": [OTHER_NAME]}[command]
    text = screen(args + ["--index-dir", str(screens_index)], columns)
    breaking_rules_hold(text, columns, names, [NAME, OTHER_NAME, GOAL, CHANGED_GOAL, UNIT, OTHER_UNIT])


@pytest.mark.slow
@pytest.mark.parametrize("columns", WIDTHS + [160])
def test_stats_wraps_file_names_and_right_aligns_numbers(screens_index, documents, columns):
    text = screen(["stats", "--index-dir", str(screens_index)], columns)
    breaking_rules_hold(text, columns, [], [])
    assert "…" not in text
    lines = text.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("file "))) + 1:]
    first_column = "".join(re.split(r"\s{2,}", line.strip())[0] for line in table)
    for path in documents.iterdir():
        assert path.name in first_column, path.name
    rows = [line for line in table if "indexed" in line]
    assert len(rows) == 3
    assert len({cell_len(line[:re.search(r"indexed\s+\d+", line).end()]) for line in rows}) == 1, rows  # one right edge


@pytest.mark.parametrize("columns", WIDTHS + [160, 200])
def test_parse_shows_names_units_and_goals_whole(documents, columns):
    text = screen(["parse", str(documents)], columns)
    breaking_rules_hold(text, columns, [NAME, OTHER_NAME, UNIT, OTHER_UNIT], [NAME, OTHER_NAME, GOAL, CHANGED_GOAL])


# -- help ---------------------------------------------------------------------------------------
def commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, path + (name,))
        else:
            yield path + (name,), command


HELPS = list(commands())


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("path, command", HELPS, ids=[" ".join(p) or "goalsearch" for p, _ in HELPS])
def test_help_is_wrapped_by_display_width(path, command, columns):
    """Help fits the terminal and keeps each Chinese term whole, whether the width comes from the terminal
    (``terminal_width``) or from ``$COLUMNS``."""
    for result in (CliRunner().invoke(cli, [*path, "-h"], terminal_width=columns),
                   CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, [*path, "-h"])):
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(cell_len(line) for line in lines) <= columns, max(lines, key=cell_len)
        assert [line for line in lines if line.strip()[:1] in set(CLOSING)] == []
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for term in re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", "\n".join(texts)):
            assert any(term in line for line in lines), f"{term!r} broken across lines"


def test_a_long_example_folds_into_lines_a_shell_joins():
    from goalsearch.cli_wrap import wrap_help

    text = wrap_help("\b\ngoalsearch similar 广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目 --other-years", 60, "  ")
    lines = text.splitlines()
    assert len(lines) > 1 and all(line.endswith(" \\") for line in lines[:-1])
    assert " ".join(line.removesuffix(" \\").strip() for line in lines).startswith("goalsearch similar 广州市")
    assert max(cell_len(line) for line in lines) <= 60


# -- how wide a pipe is ------------------------------------------------------------------------------
class Stream:
    def __init__(self, fd: int | None = None) -> None:
        self.fd = fd

    def isatty(self) -> bool:
        return self.fd is not None

    def fileno(self) -> int:
        if self.fd is None:
            raise OSError("not a file")
        return self.fd


def test_a_pipe_is_laid_out_for_columns_then_the_terminal_of_stderr_then_80(monkeypatch):
    import fcntl
    import os
    import pty
    import struct
    import sys
    import termios

    from goalsearch.cli_wrap import output_columns

    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 117, 0, 0))
        pipe = Stream()
        monkeypatch.setattr(sys, "stdout", pipe)
        monkeypatch.delenv("COLUMNS", raising=False)
        monkeypatch.setattr(sys, "stderr", Stream())
        assert output_columns(pipe) == 80
        monkeypatch.setattr(sys, "stderr", Stream(slave))
        assert output_columns(pipe) == 117  # `goalsearch search … | less` in a terminal 117 wide
        monkeypatch.setenv("COLUMNS", "93")
        assert output_columns(pipe) == 93
        assert output_columns(Stream(slave)) is None  # a terminal: rich measures it
    finally:
        os.close(master)
        os.close(slave)


# -- the first run's bars ----------------------------------------------------------------------------
def test_a_note_during_the_bars_gets_a_line_of_its_own_and_bars_show_the_time_left(monkeypatch):
    """``No index at …: building one`` used to be written into the bar being drawn (``…3/4 0.5/s 0:05No index``)."""
    import io
    import sys

    from goalsearch import cli_render

    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", stream)
    times = iter(range(100))
    with cli_render.progress_bars() as progress:
        progress.clock = lambda: float(next(times))
        progress.last = progress.clock()
        progress("embed", 1, 4)
        progress.bar.refresh()
        progress.note("No index at index: building one")
        progress("embed", 2, 4)
        progress.bar.refresh()
        drawn = stream.getvalue()
        progress("embed", 4, 4)
    screen = stream.getvalue()
    before = screen[:screen.index("No index")]
    assert before.endswith(("\n", "\r\x1b[2K")), before[-40:]  # the bar's line erased first, or a fresh line
    assert screen[screen.index("No index"):].startswith("No index at index: building one\n")
    assert "eta 0:0" in drawn  # 1 of 4 after 1 s: 3 s left (then 2 of 4 after 2 s: 2 s)
    assert "eta" not in screen[screen.rindex("4/4"):]  # done: how long it took, no time left


@pytest.mark.parametrize("shared, expected", [
    ("通过开展中等职业教育免学费，贯彻落实国家有关要求，加", "通过开展中等职业教育免学费，贯彻落实国家有关要求…"),
    ("教育免学费，贯彻落实国家有关要求，", "…贯彻落实国家有关要求，"),
    ("加强管理。", "加强管理。"),
])
def test_the_shared_passage_of_duplicates_starts_and_ends_at_a_clause(shared, expected):
    """It ended mid-word (``…有关要求，加``): the longest common run stops wherever the two goals part."""
    from goalsearch.cli_render_families import clause_passage

    goal = "前言，通过开展中等职业教育免学费，贯彻落实国家有关要求，加强管理。"
    assert clause_passage(shared, goal) == expected


def test_a_snippet_never_starts_or_ends_inside_a_number():
    """The cut before the first match fell inside the year span: ``…年信息化运维`` (or ``…024-2025年``)."""
    from types import SimpleNamespace

    from goalsearch.cli_render import _goal_snippet

    text = "通过广州市技师学院2024-2025年信息化运维项目的建设，对软件、硬件、网络进行运行维护，系统可用率不低于99.95%，" * 2
    hit = SimpleNamespace(snippet=SimpleNamespace(text=text, ranges=[(19, 24)], start=0, truncated_left=False,
                                                  truncated_right=False), record=None)
    for cells in range(40, 120, 3):
        shown = _goal_snippet(hit, cells).plain
        assert shown.startswith(("…2024-2025年信息化", "通过广州市")), shown  # a cut, or the clause from its start
        body = shown.strip("…")
        after = text[text.index(body) + len(body):][:1]
        assert cell_len(shown) <= cells and not (body[-1].isdigit() and after in set("0123456789.-%,")), shown


def test_a_snippet_starts_at_the_clause_of_its_first_match():
    """``…统、数字化企业服务平台``: the window was cut out of 系统; it now starts after the 、 (search layer), and
    the screen's narrower cut starts at a clause too when one begins close before the match."""
    from types import SimpleNamespace

    from goalsearch.cli_render import _goal_snippet
    from goalsearch.search.highlight import snippet

    goal = ("为保障本中心负责的门户网站、业务系统、数字化企业服务平台、统一在线申办系统等10个系统的正常运行，推进政务服务"
            "持续性开展。本项目旨在现有日常维护体系的基础上，进一步完善和优化系统功能，确保系统安全稳定运行，提升运维效率。") * 2
    at = goal.index("统一在线")
    found = snippet(goal, [(at, at + 2)], width=60)
    assert found.truncated_left and goal[found.start - 1] in "，。；、", found.text
    for cells in (60, 80, 120, 154):
        hit = SimpleNamespace(snippet=found, record=SimpleNamespace(goal=goal))
        shown = _goal_snippet(hit, cells).plain.lstrip("…")
        start = goal.index(shown.rstrip("…"))
        assert goal[start - 1] in "，。；、", (cells, shown)
