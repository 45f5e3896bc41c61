"""What a person meets in a terminal (issue 15): results that read at 80, 100 and 160 columns,
README examples that run, errors that help, progress on long steps."""
from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from goalsearch import cli as cli_module
from goalsearch.cli import cli
from goalsearch.search import sample_corpus
from conftest import SEED

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text("utf-8")
UNIQUE_NAME = "广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目"
TWO_YEARS_NAME = "市人社数据服务中心社保卡制发管理服务经费"  # 2024 and 2026: ambiguous on purpose


def run(*args, index_dir=None, columns=None):
    extra = ["--index-dir", str(index_dir)] if index_dir is not None else []
    env = {"COLUMNS": str(columns)} if columns else {}
    return CliRunner(env=env).invoke(cli, list(args) + extra)


def joined(text: str) -> str:
    """The screen with its wrapping undone: every line stripped and glued to the next."""
    return "".join(line.strip() for line in text.splitlines())


# -- 1. results that read -------------------------------------------------------------
@pytest.mark.parametrize("columns", [80, 100, 160])
@pytest.mark.parametrize("args", [
    ["search", "政务云运维"],
    ["search", "政务云运维", "--explain"],
    ["search", "软件运维", "-n", "20"],  # names that differ only in their year span
    ["similar", UNIQUE_NAME],
])
def test_results_show_whole_names_and_ids(sample_index_dir, columns, args):
    screen = run(*args, index_dir=sample_index_dir, columns=columns)
    assert screen.exit_code == 0, screen.output
    hits = json.loads(run(*args, "--format", "json", index_dir=sample_index_dir).stdout)
    assert hits
    lines = screen.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns  # (CJK takes two cells: characters ≤ cells)
    for hit in hits:
        assert any(line.strip() == hit["id"] for line in lines), hit["id"]  # whole, alone on its line: copyable
        assert hit["name"] in joined(screen.stdout), hit["name"]
        assert f"{hit['rank']} {hit['name'][:3]}" in screen.stdout
    assert "…" not in "".join(line for line in lines if line.strip() in {h["id"] for h in hits})
    assert "\x1b[" not in screen.stdout  # nothing coloured when not a terminal


EXPLAINED = re.compile(r"(name holds the query · )?fused ([\d.]+) = bm25 ([\d.]+|–)(?: \(#(\d+), ([\d.]+)[^)]*\))?"
                       r" \+ semantic ([\d.]+|–)(?: \(#(\d+), ([\d.]+)[^)]*\))?")


def test_explain_adds_one_line_of_ranks_and_scores(sample_index_dir):
    plain = run("search", "政务云运维", "-n", "3", index_dir=sample_index_dir, columns=80).stdout
    explained = run("search", "政务云运维", "-n", "3", "--explain", index_dir=sample_index_dir, columns=80).stdout
    extra = [line.strip() for line in explained.splitlines() if line not in plain.splitlines()]
    assert len(extra) == 3 and all(EXPLAINED.fullmatch(e) for e in extra), extra
    for mode, side in (("bm25", "bm25"), ("semantic", "semantic")):
        lines = run("search", "政务云运维", "-n", "3", "--mode", mode, "--explain", index_dir=sample_index_dir).stdout
        assert len(re.findall(rf"^\s*(name holds the query · )?{side} #\d+ \([\d.]+\)$", lines, re.M)) == 3, lines
    listing = run("search", "--category", "运维", "-n", "2", "--explain", index_dir=sample_index_dir).stdout
    assert len(re.findall(r"^\s*bm25 – · semantic –$", listing, re.M)) == 2, listing  # a listing: neither side ranked


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
@pytest.mark.parametrize("query", ["网络安全", "政务云运维", "paste"])
def test_explain_shows_the_order_and_the_parts_the_fusion_used(sample_index_dir, sample_index, query, fusion):
    """Each --explain line reads in the ranking's own order (names that hold a short query first, then the fused
    score, never rising), and its parts are each side's run as the fusion took it: the rank and score in that
    side's first 100 candidates, normalised (convex: BM25 by its best, cosine min-max) or 1/(60 + rank) (rrf)."""
    if query == "paste":
        query = next(q["query"] for q in json.loads((ROOT / "benchmarks" / "dev_queries.json").read_text("utf-8"))["queries"]
                     if q["kind"] == "cross-city")
    screen = run("search", query, "-n", "20", "--fusion", fusion, "--explain", index_dir=sample_index_dir, columns=400).stdout
    lines = [EXPLAINED.fullmatch(line.strip()) for line in screen.splitlines()]
    lines = [m.groups() for m in lines if m]
    assert len(lines) == 20, screen
    order = [(not named, -float(fused)) for named, fused, *_ in lines]
    assert order == sorted(order)  # the printed order is the order the line explains
    bm25 = [(h.bm25_rank, h.bm25_score) for h in sample_index.search(query, mode="bm25", limit=100, highlight=False)]
    cosines = [h.semantic_score for h in sample_index.search(query, mode="semantic", limit=100, highlight=False)]
    for named, fused, b_part, b_rank, b_score, s_part, s_rank, s_score in lines:
        added = [float(p) for p in (b_part, s_part) if p != "–"]
        assert sum(added) == pytest.approx(float(fused), abs=2e-3)
        if b_part != "–":
            rank, score = int(b_rank), float(b_score)
            assert bm25[rank - 1][1] == pytest.approx(score, abs=0.006)
            expected = 1 / (60 + rank) if fusion == "rrf" else 0.6 * bm25[rank - 1][1] / max(s for _, s in bm25)
            assert float(b_part) == pytest.approx(expected, abs=2e-3)
        if s_part != "–":
            rank, cosine = int(s_rank), float(s_score)
            assert cosines[rank - 1] == pytest.approx(cosine, abs=6e-4)
            low, high = min(cosines), max(cosines)
            expected = 1 / (60 + rank) if fusion == "rrf" else 0.4 * (cosines[rank - 1] - low) / (high - low)
            assert float(s_part) == pytest.approx(expected, abs=2e-3)


def test_matched_words_are_marked_on_a_terminal(sample_index):
    from rich.console import Console

    from goalsearch import cli_render

    out = Console(width=80, force_terminal=True, color_system="standard", record=True)
    cli_render.hits_blocks(sample_index.search("政务云运维", limit=1), explain=False, out=out)
    styled = out.export_text(styles=True, clear=False)
    assert "\x1b[1;33m政务云\x1b[0m" in styled and "\x1b[1m  广州市数字政府运营中心" not in styled


@pytest.mark.parametrize("columns", [80, 100])
def test_show_prints_every_field_in_full(sample_index_dir, sample_index, columns):
    record = sample_index.find("人力资源综合管理")
    screen = run("show", record.id, index_dir=sample_index_dir, columns=columns)
    assert screen.exit_code == 0
    text = joined(screen.stdout)
    for value in (record.id, record.name, record.goal, record.overall_goal, record.unit):
        assert value.replace(" ", "") in text.replace(" ", "")
    assert all(i.target in text for i in record.indicators)
    assert max(len(line) for line in screen.stdout.splitlines()) <= columns


@pytest.mark.parametrize("command", [["show"], ["family"], ["stats"], ["totals", "运维", "--ids"]])
def test_no_line_ends_in_the_spaces_rich_pads_tables_with(sample_index_dir, sample_index, command):
    args = [*command, sample_index.find("人力资源综合管理").id] if command in (["show"], ["family"]) else command
    screen = run(*args, index_dir=sample_index_dir, columns=80)
    assert screen.exit_code == 0 and screen.stdout.strip()
    assert [line for line in screen.stdout.splitlines() if line.endswith(" ")] == []


def test_show_takes_a_name_like_similar(sample_index_dir, sample_index):
    shown = json.loads(run("show", UNIQUE_NAME, "--format", "json", index_dir=sample_index_dir).stdout)
    assert shown["id"] == sample_index.find(UNIQUE_NAME).id
    ambiguous = run("show", TWO_YEARS_NAME, index_dir=sample_index_dir)
    assert ambiguous.exit_code == 2 and "2 projects match" in ambiguous.stderr
    assert len(re.findall(r"^  [0-9a-f]{16}  ", ambiguous.stderr, re.M)) == 2


def test_show_takes_an_id_prefix_and_says_how_long_one_must_be(sample_index_dir, sample_index):
    record_id = sample_index.find(UNIQUE_NAME).id
    shown = json.loads(run("show", record_id[:8], "--format", "json", index_dir=sample_index_dir).stdout)
    assert shown["id"] == record_id
    short = run("show", record_id[:5], index_dir=sample_index_dir)
    assert short.exit_code != 0 and "an id prefix needs at least 6 characters" in short.stderr


# -- 2. examples that run -----------------------------------------------------------------
SERVES = "goalsearch serve"  # runs until stopped: tests/test_web.py serves the page in a thread


def readme_shell_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.removeprefix("$ ").strip()
            if line.startswith("goalsearch ") and not line.startswith(SERVES):
                commands.append(line)
    return commands


def help_examples() -> list[str]:
    commands = []
    for name, command in cli.commands.items():
        if name in ("index", "model", "eval", "serve"):  # index and model write, eval takes seconds, serve runs until
            # stopped: tested in their own files (tests/test_web.py for serve)
            continue
        commands += [line.strip() for line in (command.help or "").splitlines() if line.strip().startswith("goalsearch ")]
    return commands


def run_shell_line(line: str, index_dir: Path, monkeypatch):
    if "../shared/" in line and not (ROOT.parent / "shared").is_dir():
        pytest.skip("the developers' shared/ folder is not beside this checkout (CI lays one there)")
    line = line.replace('"$(goalsearch samples)"', shlex.quote(str(sample_corpus())))  # what the shell would do
    words = shlex.split(line, comments=True)
    if ">" in words:
        words = words[:words.index(">")]
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GOALSEARCH_INDEX", str(index_dir))
    return CliRunner().invoke(cli, words[1:])


@pytest.mark.parametrize("line", readme_shell_commands())
def test_readme_shell_examples_run(line, sample_index_dir, monkeypatch):
    result = run_shell_line(line, sample_index_dir, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


@pytest.mark.parametrize("line", help_examples())
def test_help_examples_run(line, sample_index_dir, monkeypatch):
    result = run_shell_line(line, sample_index_dir, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_readme_python_example_runs_as_written(sample_index_dir, tmp_path, monkeypatch, capsys):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    shutil.copytree(sample_index_dir, tmp_path / "index")  # the example re-indexes: the vectors are reused
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert "广州市政务服务和数据管理局2024-2027年广州市数字政府政务云服务运维项目" in capsys.readouterr().out


def test_readme_installs_before_it_tests_and_says_how_long():
    install = README.index("pip install -e '.[test]'")
    assert install < README.index("python -m pytest")
    assert re.search(r'-m "not slow"', README) and re.search(r"python -m pytest.{0,200}minutes", README, re.S)


# -- 3. errors that help ----------------------------------------------------------------
@pytest.mark.parametrize("args, code, message", [
    (["search", "运维", "--city", "北京"], 2,
     "Error: unknown city '北京'; the index has 广州, 江门, 深圳 (see 'goalsearch search -h')"),
    (["search", "运维", "--city", "guangzhou"], 2,
     "Error: unknown city 'guangzhou'; the index has 广州, 江门, 深圳 (see 'goalsearch search -h')"),
    (["search", "运维", "--city", "深圳市"], 0, ""),
    (["search", "运维", "--category", "运"], 2, "Error: unknown category '运'; choose from 运维, 运营服务, "),
    (["similar", UNIQUE_NAME, "--category", "物业"], 2, "Error: unknown category '物业'; choose from 物业/场地, "),
    (["search", "运维", "--department", "财政局"], 2, "Error: no department contains '财政局'; the index has "),
    (["similar", UNIQUE_NAME, "--city", "广州", "--other-cities"], 2,
     f"Error: --city 广州 and --other-cities contradict each other: {UNIQUE_NAME} is in 广州, so no project can be in both"),
    (["similar", UNIQUE_NAME, "--year", "2026", "--other-years"], 2, "Error: --year 2026 and --other-years contradict each other"),
    (["search", "运维", "--year", "2024", "--years", "2023-2024"], 2,
     "Error: --year 2024 and --years 2023-2024 contradict each other: both choose the years; give one of them"),
    (["search", "--bogus"], 2, "Error: No such option '--bogus' (see 'goalsearch search -h')"),
    (["search", "运维", "--years", "abc"], 2,
     "Error: years 'abc': write a year (2024) or a range (2023-2026) (see 'goalsearch search -h')"),
    (["show"], 2, "Error: Missing argument 'ID_OR_NAME' (see 'goalsearch show -h')"),
])
def test_errors_name_what_is_known_in_one_line(sample_index_dir, args, code, message):
    result = run(*args, index_dir=sample_index_dir)
    assert result.exit_code == code, result.output
    if code:
        assert result.stderr.startswith(message), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1  # no Usage: / Try: lines
        assert result.stdout == ""


def test_unknown_filter_values_from_python(sample_index):
    from goalsearch.search import UsageError

    with pytest.raises(UsageError, match="unknown city '北京'; the index has 广州"):
        sample_index.search("运维", city=["北京"])


def test_a_cut_candidate_list_says_so(sample_index_dir):
    result = run("similar", "运维", index_dir=sample_index_dir)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: 49 projects match '运维'; give one of their ids")
    assert len(re.findall(r"^  [0-9a-f]{16}  ", result.stderr, re.M)) == 20
    assert "(first 20 of 49; narrow the name or pick an id)" in result.stderr


@pytest.mark.parametrize("columns", [80, 100])
def test_the_candidates_of_an_ambiguous_name_fit_the_width(sample_index_dir, monkeypatch, columns):
    """Each candidate was one line of up to 181 columns (id, name, city, year, unit): now its id and name, then where
    it is from, wrapped to the width; every id still starts a line."""
    monkeypatch.setenv("COLUMNS", str(columns))
    result = run("show", "运维", index_dir=sample_index_dir)
    assert result.exit_code == 2
    assert max(cell_len(line) for line in result.stderr.splitlines()[1:]) <= columns
    assert len(re.findall(r"^  [0-9a-f]{16}  ", result.stderr, re.M)) == 20
    assert "人力资源和社会保障数据服务中心2025-2026年网络租赁和安全运维项目" in result.stderr.replace("\n" + " " * 20, "")


@pytest.mark.slow
def test_removing_a_file_the_index_does_not_hold_is_a_note_and_exit_1(tmp_path):
    from goalsearch.indexer import index_paths, not_indexed, remove_paths

    index_dir = tmp_path / "index"
    index_paths([SEED["jm_2021"]], index_dir)
    result = run("index", "--remove", str(SEED["sz_2023"]), index_dir=index_dir)
    assert result.exit_code == 1
    assert f"note: {SEED['sz_2023'].resolve()} is not in the index; nothing removed for it" in result.stderr
    assert not_indexed([SEED["sz_2023"], SEED["jm_2021"]], index_dir) == [str(SEED["sz_2023"].resolve())]
    assert remove_paths([SEED["jm_2021"]], index_dir).records == 0
    assert not_indexed([SEED["jm_2021"]], index_dir) == [str(SEED["jm_2021"].resolve())]


# -- progress ---------------------------------------------------------------------------
@pytest.mark.slow
def test_model_conversion_reports_progress(tmp_path):
    from goalsearch.indexer.models.convert import CONVERT_STEPS, convert

    calls = []
    convert(tmp_path / "model", progress=lambda *call: calls.append(call))
    assert calls[0] == ("convert model", 0, CONVERT_STEPS) and calls[-1] == ("convert model", CONVERT_STEPS, CONVERT_STEPS)


def test_distillation_reports_progress(tmp_path):
    import numpy as np

    from goalsearch.indexer.models.static import build_static_model

    calls = []
    build_static_model(tmp_path / "fast", teacher_encode=lambda words: np.ones((len(words), 8), np.float32),
                       words=600, progress=lambda *call: calls.append(call))
    assert calls and calls[-1][0] == "distil" and calls[-1][1] == calls[-1][2] > 0


@pytest.mark.parametrize("args, builder", [(["model", "build", "--fast"], "build_fast_model"),
                                           (["model", "build"], "build_default_model")])
def test_model_build_draws_progress(monkeypatch, tmp_path, args, builder):
    seen = {}

    def fake(force=False, progress=None, **options):
        seen["progress"] = progress
        progress("distil", 1, 2)
        return tmp_path

    monkeypatch.setattr(cli_module, builder, fake)
    monkeypatch.setattr("goalsearch.indexer.models.onnx_embedder.build_onnx_model", lambda backend, progress=None, **options: tmp_path)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0 and callable(seen["progress"])


def test_indexing_draws_progress_with_counts_and_rate(monkeypatch, tmp_path):
    import io

    from goalsearch import cli_render

    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr(cli_render.sys, "stderr", stream)
    with cli_render.progress_bars() as progress:
        for done in range(0, 11):
            progress("embed", done, 10)
    assert "embed" in stream.getvalue() and "10/10" in stream.getvalue() and "/s" in stream.getvalue()
