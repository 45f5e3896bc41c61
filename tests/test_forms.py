"""The national performance-goal forms: every layout gives the same record, and what a form cannot say is not said.

The forms are the project's own (``form_renderings``), written from ``data/forms.json``'s labels in the
layouts real ones come in; the real ones in ``../shared/templates`` are measured by ``goalsearch
eval-parse`` (README), never copied here.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import form_renderings as fr
from goalsearch.cli import cli
from goalsearch.indexer import DocumentError, parse, parse_bytes, parse_text
from goalsearch.indexer.parse.forms.values import read_amount, split_glued, split_spaced_rows

SPECS = fr.sample_specs()
IDS = ["goal_form", "self_evaluation", "sichuan_in_yuan"]


def the_record(records, spec: fr.FormSpec):
    found = [r for r in records if r.name == spec.name]
    assert len(found) == 1, [r.name for r in records]
    return found[0]


def assert_reads_as(record, spec: fr.FormSpec) -> None:
    assert (record.kind, record.name, record.unit, record.department, record.year) == \
        (spec.kind, spec.name, spec.unit, spec.department, spec.year)
    assert record.amount == pytest.approx(spec.amount)
    assert record.goal == spec.goal
    assert record.actual == (spec.actual or "")
    if spec.kind == "self_evaluation":
        assert record.executed == pytest.approx(spec.executed)
        assert record.execution_rate == pytest.approx(round(100 * spec.executed / spec.budget, 2))
    wanted = [(i.level1, i.level2, i.name, i.target, i.actual or None) for i in spec.indicators]
    assert [(i.level1, i.level2, i.name, i.target, i.actual) for i in record.indicators] == wanted
    assert record.complete, record.warnings


def _has_empty_cells(spec: fr.FormSpec) -> bool:
    """A value left empty inside a row: a layout that drops empty cells (spaces) cannot show where it was."""
    return spec.kind == "self_evaluation" and any(not i.actual for i in spec.indicators)


CASES = [pytest.param(spec, layout, id=f"{name}-{layout}") for spec, name in zip(SPECS, IDS)
         for layout in sorted(fr.TEXT_LAYOUTS) if not (layout == "spaces" and _has_empty_cells(spec))]


@pytest.mark.parametrize("spec, layout", CASES)
def test_every_text_layout_reads_the_same(spec, layout):
    text = fr.TEXT_LAYOUTS[layout](fr.grid(spec))
    records, report = parse_text(text, f"form.{layout}.txt")
    assert_reads_as(the_record(records, spec), spec)
    assert report.reconciled and len(report.forms) == 1
    form = report.forms[0]
    assert form["cells"] == form["fields"] + form["indicator_cells"] + form["skipped"]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_an_html_page_reads_the_same(spec):
    records, report = parse_bytes(fr.to_html(fr.grid(spec)).encode("utf-8"), "form.html")
    assert_reads_as(the_record(records, spec), spec)
    assert report.kind == "html" and report.reconciled


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_pdf_reads_the_same(spec, tmp_path):
    path = tmp_path / "form.pdf"
    fr.to_pdf(fr.grid(spec), path)
    records, report = parse(path)
    assert_reads_as(the_record(records, spec), spec)
    assert report.kind == "pdf" and report.reconciled


_WORDS = ["政务", "云", "运维", "网络", "安全", "测评", "社保", "卡", "服务", "平台", "建设", "数据", "中心", "热线", "采购"]
_name = st.lists(st.sampled_from(_WORDS), min_size=2, max_size=6).map("".join)
_LEVELS = [("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "成本指标"), ("效益指标", "社会效益指标"),
           ("效益指标", "可持续影响指标"), ("满意度指标", "服务对象满意度指标")]
_indicator = st.builds(lambda levels, name, n: fr.IndicatorSpec(*levels, name, f"≥{n}个"),
                       st.sampled_from(_LEVELS), _name, st.integers(1, 9999))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_name, amount=st.decimals(min_value="0.01", max_value="99999", places=2), year=st.integers(2015, 2030),
       indicators=st.lists(_indicator, min_size=1, max_size=6), variant=st.integers(0, 3),
       layout=st.sampled_from(["cells", "pipes", "blank"]))
def test_any_goal_form_round_trips(name, amount, year, indicators, variant, layout):
    indicators.sort(key=lambda i: _LEVELS.index((i.level1, i.level2)))  # a form lists them by level
    spec = fr.FormSpec("goal_form", year, name + "项目", "某市某局信息中心", "某市某局", float(amount),
                       "完成" + name + "建设。", indicators, variant=variant)
    records, report = parse_text(fr.TEXT_LAYOUTS[layout](fr.grid(spec)), "form.txt")
    assert_reads_as(the_record(records, spec), spec)
    assert report.reconciled


def test_a_form_cut_short_is_a_partial_record_marked_incomplete():
    spec = SPECS[1]
    text = fr.cells(fr.grid(spec))
    cut = text[: text.index(spec.indicators[2].name) + 4]  # inside the third indicator's name
    records, report = parse_text(cut, "cut.txt")
    record = the_record(records, spec)
    assert not record.complete and record.executed == pytest.approx(spec.executed)
    assert len(record.indicators) == 3 and record.indicators[-1].target is None
    assert any("incomplete: the indicator table is cut" in w for w in record.warnings)


def test_the_end_of_a_form_without_its_beginning_is_one_line_and_no_record():
    rows = fr.grid(SPECS[1])
    tail = rows[rows.index(next(r for r in rows if r and r[0] == "绩效指标")):]
    records, report = parse_text(fr.pipes(tail), "tail.txt")
    assert records == []
    assert "the end of a form whose beginning is not in the file (4 indicators, no project name)" in report.forms[0]["note"]
    assert report.reconciled


def test_parse_prints_one_note_for_a_form_without_a_beginning(tmp_path):
    rows = fr.grid(SPECS[0])
    path = tmp_path / "tail.txt"
    path.write_text(fr.pipes(rows[rows.index(next(r for r in rows if r and r[0] == "绩效指标")):]), "utf-8")
    result = CliRunner().invoke(cli, ["parse", str(path)])
    assert result.exit_code == 0
    assert "note: line 1: the end of a form whose beginning is not in the file (7 indicators" in result.stderr


def test_a_notice_that_only_names_a_form_is_no_form():
    with pytest.raises(DocumentError, match="no project table found"):
        parse_text("关于公示2023年项目支出绩效目标申报表的通知\n现将绩效目标申报表公示如下。\n", "notice.txt")


@pytest.mark.parametrize("text, unit, expected", [
    ("250万", "万元", 250.0), ("854万(高标准农田建设400万元,示范建设295万元)", "万元", 854.0),
    ("4,100,000.00", "元", 410.0), ("7595500.00", "元", 759.55), ("38.75万元", "万元", 38.75),
    ("2021年", "万元", None), ("中央衔接资金50", "万元", None), ("1" + "0" * 400, "万元", None),
])
def test_amounts_are_read_in_wan(text, unit, expected):
    assert read_amount(text, unit) == expected


def test_glued_cells_are_cut_only_one_way():
    roles = ["weight", "target", "actual", "score"]
    assert split_glued("监测站点数10≥30个≥30个10服务时长10≥8小时≥8小时10", roles) == [
        ("监测站点数", {"weight": "10", "target": "≥30个", "actual": "≥30个", "score": "10"}),
        ("服务时长", {"weight": "10", "target": "≥8小时", "actual": "≥8小时", "score": "10"})]
    assert split_glued("50505050", ["budget", "executed"], named=False) is None  # 50|50|… or 505|050: no way to tell
    money = split_glued("808010100.00%10", ["budget", "executed", "weight", "rate", "score"], named=False)
    assert money == [("", {"budget": "80", "executed": "80", "weight": "10", "rate": "100.00%", "score": "10"})]


def test_space_separated_rows_fill_the_most_columns():
    tokens = "资料印发份数 ≥500份 520 10 10 培训满意度 ≥90% 93% 10 9".split()
    assert split_spaced_rows(tokens, ["target", "actual", "weight", "score"]) == [
        ("资料印发份数", {"target": "≥500份", "actual": "520", "weight": "10", "score": "10"}),
        ("培训满意度", {"target": "≥90%", "actual": "93%", "weight": "10", "score": "9"})]


@pytest.mark.slow
def test_a_goal_form_and_its_self_evaluation_are_one_family(tmp_path):
    """What was promised and what was delivered, in one family; the year's money counted once."""
    from goalsearch.indexer import build_index
    from goalsearch.search import GoalSearch

    indicators = [fr.IndicatorSpec("产出指标", "数量指标", "热线坐席数", "≥60个", actual="62个", weight=50, score=50),
                  fr.IndicatorSpec("满意度指标", "服务对象满意度指标", "来电群众满意度", "≥90%", actual="93%", weight=50,
                                   score=50)]
    promised = fr.FormSpec("goal_form", 2024, "12345热线话务服务项目", "某市政务服务热线中心", "某市政务服务数据管理局",
                           300.0, "保障12345热线全年话务接听，接通率不低于95%。",
                           [fr.IndicatorSpec(i.level1, i.level2, i.name, i.target) for i in indicators])
    delivered = fr.FormSpec("self_evaluation", 2024, promised.name, promised.unit, promised.department, 300.0,
                            "全年话务接听，接通率不低于95%。", indicators, budget=300.0, executed=288.5,
                            actual="全年接听来电41万次，接通率96.2%。")
    records = []
    for spec in (promised, delivered):
        rows = fr.grid(spec)
        if spec is delivered:
            rows.insert(4, ["自评总分", "95"])
        records += parse_text(fr.cells(rows), f"{spec.kind}.txt")[0]
    assert [r.score for r in records] == [None, 95.0]
    build_index(records, tmp_path / "ix")
    with GoalSearch.open(tmp_path / "ix") as index:
        family = index.family(records[0].id)
        assert {m.kind for m in family.members} == {"goal_form", "self_evaluation"}
        assert [(y.year, y.amount, y.executed) for y in family.years] == [(2024, 300.0, 288.5)]
        assert [h.record.kind for h in index.search("热线话务", kind="self_evaluation")] == ["self_evaluation"]
        assert index.search("接通率96.2", mode="bm25", limit=1)[0].record.kind == "self_evaluation"  # actual is searched
    result = CliRunner().invoke(cli, ["family", records[0].id, "--index-dir", str(tmp_path / "ix")], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert "300.00 万元 → 执行 288.50 万元 · 绩效自评表" in result.stdout and "实际完成: 全年接听来电41万次" in result.stdout
    # a hit's ``score`` is the ranking's; the self-evaluation's own total is its ``evaluation_score`` (``show``'s ``score``)
    found = CliRunner().invoke(cli, ["search", "热线话务", "--kind", "self_evaluation", "--format", "json",
                                     "--index-dir", str(tmp_path / "ix")])
    shown = CliRunner().invoke(cli, ["show", records[1].id, "--format", "json", "--index-dir", str(tmp_path / "ix")])
    hit, record = json.loads(found.stdout)[0], json.loads(shown.stdout)
    assert record["score"] == hit["evaluation_score"] == 95.0 and hit["score"] != 95.0
    table = CliRunner().invoke(cli, ["search", "热线话务", "--kind", "self_evaluation", "--format", "csv",
                                     "--index-dir", str(tmp_path / "ix")])
    assert list(csv.DictReader(io.StringIO(table.stdout)))[0]["evaluation_score"] == "95.0"


@pytest.mark.parametrize("unit, department, filed_by, place", [
    ("云雾土家族乡", "县民宗委", "奉节县云雾土家族乡人民政府", ("重庆市", "重庆市")),  # only who filed it names the place
    ("县财政局", "县民宗委", None, (None, None)),  # "县" is the gazetteer's placeholder, not 重庆市
    ("朝阳区教育局", "区财政局", None, (None, None)),  # 朝阳区: 北京 or 长春, so no city is guessed
    ("天河区教育局", "区财政局", None, ("广东省", "广州市")),  # one 天河区 in China
    ("湖南省润山润水生态农业发展有限公司", "县农业农村局", None, ("湖南省", None)),  # a province, no city
    ("区供销合作社", "区财政局", "深圳市福田区财政局", ("广东省", "深圳市")),  # 合作 is a word here, not 合作市
    ("东方红小学", "县教育局", None, (None, None)),  # nor is 东方 东方市
    ("北京市财政局", "市财政局", None, ("北京市", "北京市")),  # a municipality is its own city
    ("北京大学深圳医院", "深圳市卫生健康委员会", None, ("广东省", "深圳市")),  # 北京 here is a university's name
])
def test_the_place_is_what_the_form_names_never_a_guess(unit, department, filed_by, place):
    spec = dataclasses.replace(SPECS[0], unit=unit, department=department)
    rows = fr.grid(spec)
    if filed_by:
        rows.insert(2, ["预算单位", filed_by])
    records, report = parse_text(fr.pipes(rows), "form.txt")
    record = the_record(records, spec)
    assert (record.province, record.city) == place
    assert report.reconciled
