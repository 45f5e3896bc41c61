"""Extraction: every project row of the seeds becomes exactly one record, or a skip with a reason."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SEED
from goalsearch.indexer import DocumentError, parse, parse_bytes, parse_paths

EXPECTED_RECORDS = {"gz_data_2026": 20, "gz_hrss_2024": 214, "jm_2021": 5, "sz_2023": 5, "gz_zwfw_2026": 70}
EXPECTED_MERGED = {"gz_data_2026": 1, "gz_hrss_2024": 59, "jm_2021": 0, "sz_2023": 1, "gz_zwfw_2026": 19}


def by_name(records, name):
    found = [r for r in records if r.name == name]
    assert len(found) == 1, (name, [r.name for r in records if name[:6] in r.name])
    return found[0]


@pytest.mark.parametrize("seed", sorted(EXPECTED_RECORDS))
def test_counts_reconcile(seed):
    records, report = parse(SEED[seed])
    assert len(records) == EXPECTED_RECORDS[seed]
    assert report.records == len(records)
    assert report.rows_read == report.records + len(report.skips)
    assert report.reconciled
    merged_rows = [s for s in report.skips if s.merged_into and "continuation" not in s.reason]
    assert len(merged_rows) == EXPECTED_MERGED[seed]
    assert all(s.reason for s in report.skips)
    assert len({r.id for r in records}) == len(records)


@pytest.mark.parametrize("seed", sorted(EXPECTED_RECORDS))
def test_no_total_unit_or_header_becomes_a_project(seed):
    records, report = parse(SEED[seed])
    units = {s.reason.split(": ", 1)[1].split(" (")[0] for s in report.skips if s.reason.startswith("unit row")}
    for record in records:
        assert record.name not in {"合计", "总计", "小计", "金额合计", "项目", "支出项目类别（资金使用单位）"}
        assert record.name not in units
        assert "基本支出" not in record.name


def test_ids_are_stable_across_parses():
    first, _ = parse(SEED["gz_hrss_2024"])
    second, _ = parse(SEED["gz_hrss_2024"])
    assert [r.id for r in first] == [r.id for r in second]


def test_guangzhou_2026_data_centre_fields():
    records, _ = parse(SEED["gz_data_2026"])
    record = by_name(records, "市人社数据服务中心社保卡制发管理服务经费")
    assert (record.amount, record.year, record.city) == (384.95, 2026, "广州市")
    assert record.unit == record.department == "广州市人力资源和社会保障数据服务中心"
    assert record.sections == ["expenditure", "key_project"]
    assert record.goal.startswith("通过项目实施，加强对各类社会保障卡网点的管理")
    assert record.goal.endswith("给市民提供正确和清晰的指引。")
    # a name broken by a space in the PDF comes back whole
    broken = by_name(records, "广州市人社数据中心2025年人工智能大模型创新应用建设项目")
    assert broken.amount == 212.24 and broken.category == "建设/升级改造"
    assert by_name(records, "广州市人社数据中心2024年-2025年运维项目").category == "运维"


def test_guangzhou_2024_units_and_renamed_key_projects():
    records, report = parse(SEED["gz_hrss_2024"])
    assert sum(1 for s in report.skips if s.reason.startswith("unit row")) == 17
    # 市就业补助资金 vs 就业补助资金, 准备金 vs 储备金: one record each, both sections, both names
    jobs = by_name(records, "市场中心市就业补助资金")
    assert jobs.aliases == ["市场中心就业补助资金"] and jobs.sections == ["expenditure", "key_project"]
    assert jobs.unit == "广州市人力资源市场服务中心" and jobs.amount == 1558.62
    reserve = by_name(records, "社会保障风险准备金财政补贴项目")
    assert "社会保障风险储备金财政补贴项目" in reserve.aliases
    # the truncated expenditure name takes the key table's full one
    full = by_name(records, "广州市人力资源和社会保障数据服务中心2021年就业创业专项内容信息化升级改造项目")
    assert full.amount == 557.72
    # the same name under different units stays different projects
    assistants = [r for r in records if r.name == "机构运行辅助经费"]
    assert len(assistants) == 9 and len({r.unit for r in assistants}) == 9 and len({r.id for r in assistants}) == 9
    pension = by_name(records, "城乡居民社会养老保险政府资助项目（被征地农民）")
    assert pension.amounts["政府性基金预算"] == 9752.88 and pension.amounts["一般公共预算"] == 0.0
    tuition = by_name(records, "民办中等职业教育免学费补助")
    assert tuition.amount == 9594.0 and tuition.unit == "广州市人力资源和社会保障局"
    assert tuition.goal.startswith("通过开展中等职业教育免学费专项经费项目")
    assert tuition.goal.endswith("促进教育公平和劳动者素质提高。")
    health = by_name(records, "广州市干部健康管理中心专项工作经费")
    assert health.amount == 2100.0 and health.amounts["其他资金"] == 2100.0
    assert health.unit == "广州市干部和人才健康管理中心"


def test_jiangmen_2021_takes_only_what_is_reliable():
    records, report = parse(SEED["jm_2021"])
    assert {r.city for r in records} == {"江门市"} and {r.year for r in records} == {2021}
    garbled = [s for s in report.skips if s.reason.startswith("garbled")]
    assert [s.line for s in garbled] == [379, 380, 381]
    assert any(s.reason.startswith("parent row") and s.line == 374 for s in report.skips)
    platform = by_name(records, "2021年江门市人力资源和社会保障公共服务能力和平台建设")
    assert platform.amount == 150.0 and platform.goal == ""
    card = by_name(records, "江门市社会保障卡“一卡通”应用平台建设与精准服务项目")  # cells wrapped in <p>
    assert card.amount == 125.0 and "<p>" not in card.goal and card.goal.startswith("1.构建社保卡大数据平台")
    convenience = by_name(records, "江门市人力资源和社会保障信息化便民服务创新提升项目")
    assert convenience.amount == 150.0 and convenience.lines == [415, 417]
    assert "着力打通业务链条" in convenience.goal  # the goal continues after the blank line
    assert by_name(records, "江门市人力资源和社会保障局网络信息安全加固项目").amount == 100.0


def test_shenzhen_2023_continuations_tasks_and_indicators():
    records, report = parse(SEED["sz_2023"])
    new_build = by_name(records, "信息化新建项目（非政府投资项目）")
    assert new_build.amount == 794 and new_build.goal.endswith("采购,提高单位网络安全能力等。")
    staff = by_name(records, "人力资源综合管理")
    assert staff.sections == ["key_project", "overall"] and "制卡成功率≥90%" in staff.goal
    assert any(i.name == "社保卡制卡数" and i.target == "≥1500000张" and (i.level1, i.level2) == ("产出", "数量")
               for i in staff.indicators)
    ops = by_name(records, "信息化运维项目")
    assert ops.goal.endswith("人事电子政务维护项目验收合格率=100%等。") and ops.category == "运维"
    assert any(i.name == "进行维护的设备台数" and i.target == "≥64台" for i in ops.indicators)
    task = by_name(records, "信息化建设与运行")
    assert task.amount == 7377 and task.overall_goal.startswith("1.随着业务的不断发展")
    assert any(s.reason.startswith("basic expenditure") for s in report.skips)
    assert all(r.city == "深圳市" and r.department == "深圳市人力资源和社会保障数据管理中心" for r in records)


def test_zwfw_2026_units_and_secret_project():
    records, _ = parse(SEED["gz_zwfw_2026"])
    cloud = by_name(records, "广州市政务服务和数据管理局2024-2027年广州市数字政府政务云服务运维项目")
    assert cloud.amount == 20206.21 and cloud.unit == "广州市数字政府运营中心" and cloud.category == "运维"
    assert cloud.goal.startswith("根据《广州市国民经济和社会发展第十四个五年规划")
    assert cloud.goal.endswith("助力我市“数字政府”体系建设。") and cloud.year == 2026 and cloud.city == "广州市"
    assert by_name(records, "GZIT2022-SM-W-C-051103").amount == 3457.38
    hotline = by_name(records, "广州12345政务服务便民热线平台运营项目")
    assert hotline.amount == 12000.0 and hotline.sections == ["expenditure", "key_project"]
    spaced = by_name(records, "广州市政务服务中心2026年广州市“人工智能+”政务服务信息化建设项目")
    assert spaced.unit == "广州市政务服务中心" and spaced.amount == 565.42


def test_gbk_and_bom_documents_parse_the_same(tmp_path):
    text = SEED["gz_data_2026"].read_text("utf-8")
    expected, _ = parse(SEED["gz_data_2026"])
    for encoding, data in [("gb18030", text.encode("gb18030")), ("utf-8-sig", text.encode("utf-8-sig"))]:
        records, report = parse_bytes(data, "doc.txt")
        assert [(r.name, r.amount, r.goal) for r in records] == [(r.name, r.amount, r.goal) for r in expected]


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\x00\x01\x02binary\x00", "binary file"),
    ("这只是一段文字，没有表格。".encode("utf-8"), "no project table found"),
])
def test_bad_documents_raise_one_clear_error(content, message):
    with pytest.raises(DocumentError, match=message):
        parse_bytes(content, "bad.txt")


def test_parse_paths_goes_on_after_a_bad_file(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"\x00\x00")
    (tmp_path / "good.txt").write_bytes(SEED["jm_2021"].read_bytes())
    records, reports = parse_paths([tmp_path])
    assert len(records) == 5
    assert [bool(r.error) for r in reports] == [True, False]


def test_cli_parse_jsonl_and_report():
    result = CliRunner().invoke(cli, ["parse", str(SEED["jm_2021"]), "--format", "jsonl"], catch_exceptions=False)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5 and {"id", "name", "goal", "amount", "unit", "city", "year", "sections", "line", "indicators"} <= rows[0].keys()
    assert "11 rows read = 5 records + 1 merged + 5 skipped" in result.stderr


def test_cli_parse_directory_with_a_bad_file_exits_1(tmp_path):
    (tmp_path / "a.txt").write_bytes(SEED["sz_2023"].read_bytes())
    (tmp_path / "b.bin").write_bytes(b"\x00\xff" * 10)
    result = CliRunner().invoke(cli, ["parse", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)) == 5
    assert f"error: {tmp_path / 'b.bin'}: binary file, not a text budget document" in result.stderr
    assert "Traceback" not in result.output
