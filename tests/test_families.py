"""Project families and near-duplicate goals (issue #16), through the API and the CLI.

The sample corpus pins the families the issue names (``data/sample_families.json``); small
hand-made records with hand-made vectors pin the rule itself (renamed units, generic names of
two units, two projects of one document) without the model.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SEED
from goalsearch.indexer import Record
from goalsearch.indexer.families import find_families, name_key
from goalsearch.search import GoalSearch, UsageError, check_index
from goalsearch.search.duplicates import find_duplicates

EXPECTED = json.loads((Path(__file__).parent / "data" / "sample_families.json").read_text("utf-8"))


def run(*args, index_dir):
    return CliRunner().invoke(cli, list(args) + ["--index-dir", str(index_dir)])


# -- the sample corpus, through the API ----------------------------------------------------------

@pytest.mark.parametrize("expected", EXPECTED["families"], ids=lambda e: e["label"])
def test_named_families_of_the_sample_corpus(sample_index, expected):
    family = sample_index.family(expected["names"][-1])  # a name of two budget years is one family: no ambiguity
    assert [m.name for m in family.members] == expected["names"]
    assert {str(y.year): y.amount for y in family.years} == expected["amounts"]
    assert family.label == expected["label"]
    assert {m.unit for m in family.members} == {"广州市人力资源和社会保障数据服务中心"}
    assert all(sample_index.family(m.id).id == family.id for m in family.members)
    assert sample_index.family(family.id).members == family.members


def test_amount_change_per_year(sample_index):
    years = sample_index.family("市人社数据服务中心社保卡制发管理服务经费").years
    assert [(y.year, y.amount, y.change, y.change_pct) for y in years] == [
        (2024, 1339.99, None, None), (2026, 384.95, round(384.95 - 1339.99, 2), -71.3)]


def test_generic_name_of_two_units_does_not_merge(sample_index):
    for name in EXPECTED["not_merged"]:
        records = [r for r in sample_index.records if r.name == name]
        assert len({r.unit for r in records}) > 2
        for record in records:
            assert {m.unit for m in sample_index.family(record.id).members} == {record.unit}


def test_every_record_in_exactly_one_family(sample_index):
    families = sample_index.families(min_members=1, min_years=1)
    members = [m.id for f in families for m in f.members]
    assert sorted(members) == sorted(r.id for r in sample_index.records)
    assert len({f.id for f in families}) == len(families)
    listed = sample_index.families(min_years=1)  # two or more, by total
    assert listed and all(len(f.members) >= 2 for f in listed)
    assert [f.total for f in listed] == sorted((f.total for f in listed), reverse=True)
    assert sample_index.manifest["counts"]["families"] == len(listed)
    recurring = sample_index.families()  # the default: projects that recur across budget years
    assert recurring and all(len({m.year for m in f.members}) >= 2 for f in recurring)
    assert {f.id for f in recurring} < {f.id for f in listed}


def test_families_filters_and_sorts(sample_index):
    unit = sample_index.families(unit="数据服务中心", sort="years")
    assert unit and all(any("数据服务中心" in m.unit for m in f.members) for f in unit)
    assert len(unit[0].years) == 2
    growth = [f.growth for f in sample_index.families(sort="growth") if f.growth is not None]
    assert growth == sorted(growth, reverse=True)
    assert sample_index.families(year=1999) == []
    with pytest.raises(UsageError, match="unknown sort 'size'; choose one of total, growth, years"):
        sample_index.families(sort="size")


def test_hits_carry_family_and_search_groups_by_family(sample_index):
    hits = sample_index.search("软件运维", limit=5)
    assert all(h.family_id == sample_index.family(h.record.id).id for h in hits)
    assert "family_id" in hits[0].to_dict()
    rows = sample_index.search("软件运维", unit="数据服务中心", limit=5, group="family")
    ids = [r.family.id for r in rows]
    assert len(ids) == len(set(ids)) and len(rows) == 5
    software = next(r for r in rows if r.family.label == "软件运维")
    assert software.family.newest.name == "广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目"
    assert software.matched == 3


def test_similar_other_years_skips_the_own_family(sample_index):
    probe = "广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目"
    own = {m.id for m in sample_index.family(probe).members}
    hits = sample_index.similar(probe, other_years=True, limit=10)
    assert not own & {h.record.id for h in hits}
    with_family = sample_index.similar(probe, other_years=True, limit=10, include_family=True)
    assert own & {h.record.id for h in with_family}


def test_duplicates_find_a_real_cross_unit_pair_and_never_a_family(sample_index):
    found = sample_index.duplicates(limit=None)
    pairs = {frozenset((p.a.name, p.b.name)): p for p in found.pairs}
    pair = pairs[frozenset(EXPECTED["duplicate_pair"])]
    assert pair.a.unit != pair.b.unit and pair.similarity >= 0.8
    assert len(pair.shared) >= 20 and pair.shared in pair.a.goal and pair.shared in pair.b.goal
    for p in found.pairs:
        assert (p.a.unit, p.a.department, p.a.city) != (p.b.unit, p.b.department, p.b.city)
        assert sample_index.family(p.a.id).id != sample_index.family(p.b.id).id
    tuition = [p for p in found.pairs if "免学费" in p.a.name + p.b.name and "技师学院" in p.a.unit + p.b.unit]
    assert tuition
    stricter = sample_index.duplicates(threshold=0.9, limit=None)
    assert 0 < len(stricter.pairs) < len(found.pairs)


# -- the sample corpus, through the CLI ----------------------------------------------------------

def test_family_command_json_csv_and_table(sample_index_dir):
    name = "广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目"
    data = json.loads(run("family", name, "--format", "json", index_dir=sample_index_dir).stdout)
    assert [m["name"] for m in data["members"]] == EXPECTED["families"][3]["names"]
    assert [(y["year"], y["amount"], y["change"]) for y in data["years"]] == [(2024, 546.15, None), (2026, 269.28, -276.87)]
    csv_lines = run("family", data["id"], "--format", "csv", index_dir=sample_index_dir).stdout.splitlines()
    assert csv_lines[0].startswith("family_id,label,year") and len(csv_lines) == 4
    table = run("family", "市人社数据服务中心社保卡制发管理服务经费", index_dir=sample_index_dir)
    assert table.exit_code == 0
    assert "1,339.99 → 384.95 万元" in table.stdout and "-955.04 (-71.3%)" in table.stdout
    assert "goal 2024" in table.stdout and "goal 2026" in table.stdout


def test_families_command(sample_index_dir):
    table = run("families", "--unit", "数据服务中心", "-n", "3", index_dir=sample_index_dir)
    assert table.exit_code == 0 and table.stdout.startswith("1 ") and "fam-" in table.stdout
    listed = json.loads(run("families", "--format", "json", "-n", "100", index_dir=sample_index_dir).stdout)
    labels = [f["label"] for f in listed]
    assert all(e["label"] in labels for e in EXPECTED["families"])
    assert labels.count("机构运行辅助经费") == 1  # the 数据服务中心's own, 2024 and 2026


def test_search_group_and_similar_include_family(sample_index_dir):
    rows = json.loads(run("search", "社保卡制发", "--group", "family", "--format", "json", "-n", "3",
                          index_dir=sample_index_dir).stdout)
    top = next(r for r in rows if r["label"] == "社保卡制发管理服务经费")
    assert top["matched"] == 2 and [y["amount"] for y in top["years"]] == [1339.99, 384.95]
    hits = json.loads(run("search", "社保卡", "--format", "json", "-n", "3", index_dir=sample_index_dir).stdout)
    assert all(h["family_id"].startswith("fam-") for h in hits)
    probe = "广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目"
    skip = json.loads(run("similar", probe, "--other-years", "--format", "json", index_dir=sample_index_dir).stdout)
    keep = json.loads(run("similar", probe, "--other-years", "--include-family", "--format", "json",
                          index_dir=sample_index_dir).stdout)
    own = "广州市人社数据中心2023年-2024年软件运维项目"
    assert own not in [h["name"] for h in skip] and own in [h["name"] for h in keep]


def test_duplicates_command(sample_index_dir):
    data = json.loads(run("duplicates", "--format", "json", "-n", "50", index_dir=sample_index_dir).stdout)
    assert frozenset(EXPECTED["duplicate_pair"]) in [frozenset((p["a"]["name"], p["b"]["name"])) for p in data["pairs"]]
    table = run("duplicates", "--threshold", "0.8", index_dir=sample_index_dir)
    assert table.exit_code == 0 and "shared：" in table.stdout and "of the shorter goal shared" in table.stdout
    none = run("duplicates", "--year", "1999", index_dir=sample_index_dir)
    assert none.exit_code == 0 and "no near-duplicate goals at threshold 0.6 (0 goals compared)" in none.stderr


@pytest.mark.parametrize("args, code, message", [
    (["family", "nope"], 1, "Error: no project with id or name 'nope'; find it with `goalsearch search`"),
    (["family", "fam-000000000000"], 1, "Error: no family with id 'fam-000000000000'; list families with `goalsearch families`"),
    (["family", "机构运行辅助经费"], 2, "Error: 12 projects match '机构运行辅助经费'; give one of their ids"),
    (["families", "--sort", "size"], 2, "Error: Invalid value for '--sort': 'size' is not one of 'total', 'growth', 'years'"),
    (["duplicates", "--threshold", "0"], 2, "Error: Invalid value for '--threshold': 0.0 is not in the range 0.0<x<=1.0"),
    (["search", "运维", "--group", "city"], 2, "Error: Invalid value for '--group': 'city' is not 'family'"),
    (["search", "运维", "--group", "family", "--explain"], 2,
     "Error: --explain shows each project's ranks; leave out --group family to see them"),
])
def test_family_errors_are_one_line(sample_index_dir, args, code, message):
    result = run(*args, index_dir=sample_index_dir)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output


# -- the index on disk ----------------------------------------------------------------------------

def _generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text("utf-8").strip()


def test_index_written_before_families_computes_them(sample_index_dir, sample_index, tmp_path):
    """A generation from before families (records.jsonl, no families.json) gets them computed when opened."""
    from goalsearch.indexer.storage import generations as store

    old = tmp_path / "old"
    shutil.copytree(sample_index_dir, old)
    generation = _generation(old)
    (generation / "records.jsonl").write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                                                      for r in sample_index.records), "utf-8")
    (generation / "records.db").unlink()
    manifest = json.loads((generation / "manifest.json").read_text("utf-8"))
    manifest["checksums"] = store.checksums(generation)
    manifest["counts"].pop("families")
    (generation / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    with GoalSearch.open(old) as index:
        assert [f.id for f in index.families()] == [f.id for f in sample_index.families()]
    assert check_index(old) == []
    result = run("family", "市人社数据服务中心业务运行工作经费", "--format", "json", index_dir=old)
    assert result.exit_code == 0 and len(json.loads(result.stdout)["members"]) == 2


def test_check_finds_a_lost_family(sample_index_dir, tmp_path):
    import sqlite3

    damaged = tmp_path / "damaged"
    shutil.copytree(sample_index_dir, damaged)
    with sqlite3.connect(_generation(damaged) / "records.db") as db:
        db.execute("DELETE FROM families WHERE rowid = (SELECT min(rowid) FROM families)")  # a family lost
    problems = check_index(damaged)
    assert any("file records.db does not match the manifest" in p for p in problems)
    assert any(p.startswith("families: ") and "in no family" in p for p in problems)
    result = run("check", index_dir=damaged)
    assert result.exit_code == 1 and "in no family" in result.stderr


@pytest.mark.slow
def test_families_follow_documents_added_and_removed(tmp_path):
    from goalsearch.indexer import index_paths, remove_paths

    def members(index_dir):
        with GoalSearch.open(index_dir) as index:
            return [m.year for m in index.family("市人社数据服务中心业务运行工作经费").members]

    index_paths([SEED["gz_hrss_2024"]], tmp_path / "index")
    assert members(tmp_path / "index") == [2024]
    index_paths([SEED["gz_data_2026"]], tmp_path / "index")
    assert members(tmp_path / "index") == [2024, 2026]
    remove_paths([SEED["gz_hrss_2024"]], tmp_path / "index")
    assert members(tmp_path / "index") == [2026]
    assert check_index(tmp_path / "index") == []


def test_empty_index_has_no_families(tmp_path):
    from goalsearch.indexer import build_index

    build_index([], tmp_path / "empty")
    with GoalSearch.open(tmp_path / "empty") as index:
        assert index.families() == [] and index.duplicates().pairs == []
    assert check_index(tmp_path / "empty") == []
    assert run("families", index_dir=tmp_path / "empty").exit_code == 0


# -- the rule, on hand-made records ---------------------------------------------------------------

def record(name: str, unit: str, year: int, goal: str = "目标", source: str | None = None,
           department: str = "广州市人力资源和社会保障局", city: str = "广州市", amount: float = 10.0) -> Record:
    return Record(id=f"{abs(hash((name, unit, year, source))) % 16**16:016x}", name=name, goal=goal, city=city,
                  province="广东省", year=year, department=department, unit=unit, amount=amount,
                  source=source or f"doc{year}.txt")


def groups(records: list[Record], vectors) -> list[set[str]]:
    goals = np.asarray(vectors, dtype=np.float32)
    goals /= np.linalg.norm(goals, axis=1, keepdims=True)
    by_id = {r.id: r for r in records}
    return sorted(({by_id[m].name + f"@{by_id[m].year}" for m in f.members}
                   for f in find_families(records, goals) if len(f.members) > 1), key=sorted)


def test_name_key_sets_aside_years_places_and_the_unit():
    unit = "广州市人力资源和社会保障数据服务中心"
    assert name_key(record("广州市人社数据中心2023年-2024年软件运维项目", unit, 2024)) == "软件运维"
    assert name_key(record("广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目", unit, 2026)) == "软件运维"
    assert name_key(record("市人社数据服务中心业务运行工作经费", unit, 2026)) == "业务运行工作经费"
    assert name_key(record("2024年度市场监管经费", "广州市市场监督管理局", 2024)) == "市场监管经费"


def test_renamed_unit_joins_and_other_units_do_not():
    same = [1.0, 0.0]
    records = [record("广州市人社数据中心2023年-2024年软件运维项目", "广州市人社数据中心", 2024),
               record("广州市人力资源和社会保障数据服务中心2025-2026年软件运维项目", "广州市人力资源和社会保障数据服务中心", 2026),
               record("机构运行辅助经费", "广州市人事服务中心", 2024),
               record("机构运行辅助经费", "广州市劳动人事争议仲裁院", 2024)]
    assert groups(records, [same] * 4) == [{"广州市人社数据中心2023年-2024年软件运维项目@2024",
                                            "广州市人力资源和社会保障数据服务中心2025-2026年软件运维项目@2026"}]


def test_goals_that_disagree_or_names_in_one_document_stay_apart():
    unit = "广州市技师学院"
    records = [record("业务用房物业管理费", unit, 2024), record("业务用房物业管理费", unit, 2026),
               record("双回路机房供电维护项目", unit, 2024, source="a.txt"),
               record("双回路机房供配电维护项目", unit, 2024, source="a.txt")]
    assert groups(records, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]) == []
    moved = [records[2], record("双回路机房供配电维护项目", unit, 2026, source="b.txt")]
    assert len(groups(moved, [[0, 0, 1], [0, 0.1, 1]])) == 1  # the name changed a little, the goal did not


def test_family_ids_do_not_depend_on_record_order():
    unit = "广州市技师学院"
    records = [record(f"广州市技师学院{y}年信息化运维项目", unit, y) for y in (2023, 2024, 2025)]
    records.append(record("购置经费", unit, 2024))
    vectors = np.eye(4)[[0, 0, 0, 1]].astype(np.float32)
    forward = {tuple(sorted(f.members)): f.id for f in find_families(records, vectors)}
    backward = {tuple(sorted(f.members)): f.id for f in find_families(records[::-1], vectors[::-1].copy())}
    assert forward == backward and len(forward) == 2


def test_duplicates_pair_units_not_families_nor_one_unit():
    goal = "通过开展中等职业教育免学费专项经费项目，贯彻落实国家、省、市中职免学费有关要求，减轻家庭经济负担，促进教育公平。"
    a = record("工贸学院免学费财政补助项目", "广州市工贸技师学院", 2024, goal=goal)
    b = record("市公用学院免学费财政补助项目", "广州市公用事业技师学院", 2024, goal=goal)
    c = record("工贸学院免学费财政补助项目", "广州市工贸技师学院", 2026, goal=goal)
    other = record("购置经费", "广州市机电技师学院", 2024, goal="购置办公设备和车辆，保障学院日常办公和教学的正常开展，完成资产配置。")
    found = find_duplicates([a, b, c, other], family_of={b.id: "fam-1", c.id: "fam-1"})  # a, c: one unit
    assert [frozenset((p.a.id, p.b.id)) for p in found.pairs] == [frozenset((a.id, b.id))]
    assert found.pairs[0].similarity == 1.0 and found.compared == 4
    assert [len(cl.records) for cl in found.clusters] == [2]
    with pytest.raises(UsageError, match="threshold must be above 0 and at most 1, got 1.5"):
        find_duplicates([a, b], {}, threshold=1.5)
