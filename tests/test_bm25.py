"""The BM25 side: Chinese segmentation that matches how people type, filters, phrases, syntax, updates."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SEED, names
from goalsearch.indexer import index_paths
from goalsearch.indexer.analysis.analyzer import chinese_analyzer
from goalsearch.indexer.storage.vectors import embedded_texts
from goalsearch.search import GoalSearch
from goalsearch.search.lexical.plain import PlainQuery

QUERIES = json.loads((Path(__file__).parent / "data" / "bm25_queries.json").read_text("utf-8"))["queries"]


@pytest.mark.parametrize("case", QUERIES, ids=[f"{q['query']}→{q['expect']}" for q in QUERIES])
def test_query_finds_its_project_in_the_top_5(sample_index, case):
    hits = sample_index.search(case["query"], mode="bm25", limit=5)
    assert any(case["expect"] in name for name in names(hits)), names(hits)


def test_tokenizer_keeps_whoosh_contract():
    tokens = [t.copy() for t in chinese_analyzer()("数字政府政务云服务运维", positions=True, chars=True, mode="index")]
    text = "数字政府政务云服务运维"
    assert all(text[t.startchar:t.endchar] == t.text for t in tokens)
    positions = {t.text: t.pos for t in tokens}
    assert positions["政务"] == positions["政务云"]  # sub-words share their word's position
    assert positions["运维"] == positions["服务"] + 1
    assert [t.text for t in chinese_analyzer()("政务云运维", mode="query")] == ["政务云", "运维"]


def test_all_terms_rank_before_partial_matches(sample_index):
    hits = sample_index.search("政务云运维", mode="bm25", limit=20)
    full = [i for i, h in enumerate(hits) if "政务云" in h.record.name + h.record.goal and "运维" in h.record.name + h.record.goal]
    partial = [i for i, h in enumerate(hits) if i not in full]
    assert full and partial and max(full) < min(partial)


def test_phrase_query_in_chinese(sample_index):
    hits = sample_index.search('"信息化运维"', mode="bm25", limit=30)
    assert hits and all("信息化运维" in h.record.name + h.record.goal for h in hits)


def test_whoosh_syntax_for_power_users(sample_index):
    hits = sample_index.search("name:运维 AND year:2026", mode="bm25", limit=50)
    assert hits and all(h.record.year == 2026 and "运维" in h.record.name for h in hits)


@pytest.mark.parametrize("query", ["网络安全 NOT 等保", "网络安全 AND NOT 等保", "网络安全 ANDNOT 等保"])
def test_not_excludes_from_what_the_other_words_find(sample_index, query):
    # With words OR-ed, Whoosh read "A NOT B" as "A, or anything without B": 311 of 314 records.
    with_b = with_word(sample_index, "等保")
    hits = sample_index.search(query, mode="bm25", limit=500)
    assert hits and len(hits) < 30
    assert not {h.record.id for h in hits} & with_b
    assert all("网络安全" in h.record.name + h.record.goal + " ".join(h.record.aliases) for h in hits)


def with_word(index, word: str) -> set[str]:
    """Ids of the records whose text fields hold ``word`` (a plain search also finds its n-grams and synonyms)."""
    return {r.id for r in index.records if word in " ".join([r.name, r.goal, r.unit, r.department, *r.aliases])}


def test_a_lone_not_lists_what_lacks_the_word(sample_index):
    with_b = with_word(sample_index, "等保")
    hits = sample_index.search("NOT 等保", mode="bm25", limit=500)
    assert hits and not {h.record.id for h in hits} & with_b


@pytest.mark.parametrize("query", ["((name:", "name:", "AND OR NOT", '"unclosed phrase 运维'])
def test_broken_syntax_never_raises(sample_index, query):
    sample_index.search(query, mode="bm25")


@pytest.mark.parametrize("query", ["year:abc AND 运维", "运维 AND year:[2024 TO"])
def test_unreadable_syntax_is_left_out_and_said(sample_index_dir, query):
    # Whoosh's parser turns an unreadable part into a query matching nothing: "year:abc AND 运维" found nothing, silently.
    result = CliRunner().invoke(cli, ["search", query, "--mode", "bm25", "--format", "json", "--index-dir", str(sample_index_dir)])
    assert result.exit_code == 0
    assert "part of the query syntax was not understood" in result.stderr
    hits = json.loads(result.stdout)
    assert hits and all("运维" in h["name"] + h["goal"] + h["unit"] + h["department"] for h in hits)


def test_an_unquoted_query_of_several_words_is_one_query(sample_index_dir):
    # `goalsearch search 运维 NOT 信息化` failed with "Got unexpected extra arguments".
    def ids(*query: str) -> list[str]:
        result = CliRunner().invoke(cli, ["search", *query, "--mode", "bm25", "--format", "json", "--index-dir", str(sample_index_dir)])
        assert result.exit_code == 0, result.output
        return [h["id"] for h in json.loads(result.stdout)]

    assert ids("运维", "NOT", "信息化") == ids("运维 NOT 信息化") != []


def test_an_unknown_field_is_named(sample_index_dir):
    result = CliRunner().invoke(cli, ["search", "name:运维 AND yaer:2026", "--mode", "bm25", "--index-dir", str(sample_index_dir)])
    assert result.exit_code == 0 and "no field yaer (fields: actual, aliases, amount, category" in result.stderr


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_fields_and_not_hold_in_every_mode(sample_index, mode):
    # The semantic side used to rank all projects: hybrid '运维 NOT 信息化' returned 信息化运维项目.
    with_it = with_word(sample_index, "信息化")
    hits = sample_index.search("运维 NOT 信息化", mode=mode, limit=20)
    assert len(hits) == 10 and not {h.record.id for h in hits} & with_it  # all 10 that qualify
    hits = sample_index.search("name:运维 AND year:2026", mode=mode, limit=50)
    assert hits and all(h.record.year == 2026 and "运维" in h.record.name for h in hits)
    hits = sample_index.search("city:深圳", mode=mode, limit=50)
    assert len(hits) == 5 and all(h.record.city == "深圳市" for h in hits)


def test_words_or_and_phrases_only_guide_the_meaning(sample_index):
    assert sample_index.bm25.meaning("视频 OR 监控") is None
    assert sample_index.bm25.meaning('实现"一网通办"(二期)') is None
    assert sample_index.bm25.meaning("name:政务云 AND 运维 NOT 等保 AND year:2026") == "政务云 运维"


def test_traditional_characters_find_simplified(sample_index):
    hits = sample_index.search("社會保障卡", mode="bm25", limit=5)
    assert any("社会保障卡" in h.record.goal or "社会保障" in h.record.name for h in hits)


@pytest.mark.parametrize("filters, check", [
    ({"city": ["深圳"]}, lambda r: r.city == "深圳市"),
    ({"city": ["江门", "深圳"]}, lambda r: r.city in ("江门市", "深圳市")),
    ({"years": (2023, 2024)}, lambda r: 2023 <= r.year <= 2024),
    ({"year": 2026}, lambda r: r.year == 2026),
    ({"department": "政务服务"}, lambda r: "政务服务" in r.department),
    ({"unit": "数字政府运营中心"}, lambda r: "数字政府运营中心" in r.unit),
    ({"category": ["运维"]}, lambda r: r.category == "运维"),
    ({"min_amount": 1000}, lambda r: r.amount >= 1000),
    ({"max_amount": 50}, lambda r: r.amount <= 50),
    ({"section": ["key_project"]}, lambda r: "key_project" in r.sections),
])
def test_filters_exclude_what_they_must(sample_index, filters, check):
    for mode in ("bm25", "semantic", "hybrid"):
        hits = sample_index.search("运维", mode=mode, limit=10, **filters)
        assert hits and all(check(h.record) for h in hits)


def test_filtered_search_still_fills_n(sample_index):
    assert len(sample_index.search("运维", mode="semantic", city=["广州"], year=2024, limit=20)) == 20


def test_empty_query_lists_filtered_projects_by_amount(sample_index):
    hits = sample_index.search("", city=["广州"], category=["运维"], limit=5)
    amounts = [h.record.amount for h in hits]
    assert amounts == sorted(amounts, reverse=True) and hits[0].record.amount == 20206.21


def test_highlights_are_character_ranges_on_whole_words(sample_index):
    hit = sample_index.search("政务云运维", mode="bm25", limit=1)[0]
    goal = hit.record.goal
    searched = sample_index.bm25.parse("政务云运维").terms  # the words and their synonyms' words
    assert {"政务云", "运维"} <= searched
    assert hit.highlights["goal"] and all(any(t in goal[s:e] for t in searched) for s, e in hit.highlights["goal"])
    snippet = hit.snippet
    assert all(snippet.text[s:e] in goal for s, e in snippet.ranges)


def test_cli_bm25_json_puts_cloud_ops_first_with_highlights(sample_index_dir):
    result = CliRunner().invoke(cli, ["search", "政务云运维", "--mode", "bm25", "--format", "json", "--index-dir", str(sample_index_dir)],
                                catch_exceptions=False)
    hits = json.loads(result.stdout)
    assert "政务云服务运维项目" in hits[0]["name"] or "政务云服务运维项目" in hits[1]["name"]
    assert hits[0]["highlights"]["goal"] and hits[0]["bm25_rank"] == 1


@pytest.mark.slow
def test_reindexing_a_file_replaces_its_records(tmp_path):
    index_dir = tmp_path / "index"
    doc = tmp_path / "sz.txt"
    shutil.copy(SEED["sz_2023"], doc)
    built = index_paths([SEED["jm_2021"], doc], index_dir)
    with GoalSearch.open(index_dir) as index:  # every view of every record embedded once (a count once off by all but 2)
        assert built.embedded == len(set(embedded_texts(index.records))) > 2 * 10 - 4
    first = index_paths([doc], index_dir)
    assert first.records == 10 and first.embedded == 0 and first.tokenized == 0  # unchanged text is never redone
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == 10 and len(index.bm25.ids()) == 10
    result = CliRunner().invoke(cli, ["index", "--remove", str(doc), "--index-dir", str(index_dir)], catch_exceptions=False)
    assert result.exit_code == 0
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == 5 and not any(h.record.city == "深圳市" for h in index.search("人力资源综合管理", mode="bm25"))


@pytest.mark.slow
@pytest.mark.parametrize("damage", [b"", bytes(range(256)) * 12], ids=["emptied", "junk"])
def test_reindexing_a_file_that_no_longer_parses_keeps_its_records(tmp_path, damage):
    """Nothing indexed is lost to a bad copy: the file's earlier records stay, a note says so and how to take
    them out, and the run exits 1 for the file's error."""
    index_dir = tmp_path / "index"
    doc = tmp_path / "sz.txt"
    shutil.copy(SEED["sz_2023"], doc)
    index_paths([SEED["jm_2021"], doc], index_dir)
    with GoalSearch.open(index_dir) as index:
        before = sorted(r.id for r in index.records)
    doc.write_bytes(damage)
    result = CliRunner().invoke(cli, ["index", str(doc), "--index-dir", str(index_dir)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"kept the 5 records indexed before from {doc.resolve()}: it no longer parses" in result.stderr
    with GoalSearch.open(index_dir) as index:
        assert sorted(r.id for r in index.records) == before
        assert any(h.record.city == "深圳市" for h in index.search("人力资源综合管理", mode="bm25"))
    stats = json.loads(CliRunner().invoke(cli, ["stats", "--format", "json", "--index-dir", str(index_dir)]).stdout)
    assert [(f["status"], f["records"]) for f in stats["files"] if f["source"] == str(doc.resolve())] == [("kept", 5)]
    again = CliRunner().invoke(cli, ["index", str(doc), "--index-dir", str(index_dir)])  # held already: nothing to write
    assert again.exit_code == 1 and "nothing changed" in again.stderr and "kept the 5 records" in again.stderr
    result = CliRunner().invoke(cli, ["index", "--remove", str(doc), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == len(before) - 5


@pytest.mark.slow
def test_a_bad_copy_yields_its_projects_to_a_good_copy(tmp_path):
    """Two copies of one document: the projects are indexed once, from the first. When that one goes bad, they
    come from the copy that still parses, so removing the bad one (as the note on it says) loses nothing."""
    folder, index_dir = tmp_path / "docs", tmp_path / "index"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        shutil.copy(SEED["sz_2023"], folder / name)
    index_paths([folder], index_dir)
    (folder / "a.txt").write_bytes(b"")
    result = CliRunner().invoke(cli, ["index", str(folder), "--index-dir", str(index_dir)])
    assert result.exit_code == 1 and "kept the" not in result.stderr
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == 5 and {r.source for r in index.records} == {str((folder / "b.txt").resolve())}
    CliRunner().invoke(cli, ["index", "--remove", str(folder / "a.txt"), "--index-dir", str(index_dir)])
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == 5


@pytest.mark.slow
def test_user_dictionary_changes_segmentation(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("数运中心 5000 n\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(cli, ["index", str(SEED["gz_zwfw_2026"]), "--user-dict", str(words), "--index-dir", str(index_dir)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    with GoalSearch.open(index_dir) as index:
        assert index.extra_words == ("数运中心 5000 n",)
        having = {r.id for r in index.records if "数运中心" in r.name + r.goal}
        hits = index.search("数运中心", mode="bm25", limit=5)
        assert 0 < len(having) <= 5 and {h.record.id for h in hits[:len(having)]} == having  # whole-word matches first


EVAL_QUERIES = [q["query"] for q in json.loads((Path(__file__).parents[1] / "benchmarks" / "eval_queries.json").read_text("utf-8"))["queries"]]


def test_term_matrices_rank_like_whoosh(sample_index):
    """The numpy ranking of plain queries' jieba words reproduces Whoosh's BM25F (lengths differ only by
    Whoosh's byte rounding); n-grams, repeats and synonyms are added on top of it (``plain``)."""
    overlaps = []
    for query in EVAL_QUERIES:
        groups = sample_index.bm25.parse(query).groups
        fast = sample_index.bm25.lexical.rank(PlainQuery(groups, [1.0] * len(groups), {}), None, 10)
        reference, _, _ = sample_index.bm25.search(query, None, 10, whoosh=True)
        assert fast[0][0] == reference[0][0], query
        assert fast[0][1] == pytest.approx(reference[0][1], rel=0.03), query
        overlaps.append(len({i for i, _ in fast} & {i for i, _ in reference}) / len(reference))
    assert sum(overlaps) / len(overlaps) >= 0.95


@pytest.mark.parametrize("query, on_matrices", [
    ("name:运维", True), ("goal:系统 AND goal:稳定", True), ("name:信息化 AND department:人力资源", True),
    ("运维 OR 维护 OR 保障", True), ("网络安全 NOT 等保", True), ("网络安全 AND NOT 等保", True),
    ("(视频 OR 监控) AND 平台", True), ("政务云运维 AND 系统", True),
    ("year:2026 AND 运维", True), ("city:广州 运维", True), ("name:运维 AND city:深圳^2", True),
    ("city:深圳 NOT name:运维", True), ("goal:系统 AND year:[2021 TO 2024]", True), ("运维 AND year:{2024 TO 2026]", True),
    ("name:运维 AND category:运维", True), ("amount:[100 TO 500] AND name:系统", True), ("section:key_project AND 运维", True),
    ("amount:[1000 TO] OR name:政务云", True),
    ('"信息化运维"', False), ("name:系统*", False), ("city:[广州 TO 深圳] AND 运维", False),
])
def test_syntax_queries_rank_like_whoosh(sample_index, query, on_matrices):
    """Field and boolean queries are scored over the term matrices with Whoosh's semantics; the rest by Whoosh."""
    bm25 = sample_index.bm25
    assert (bm25.on_matrices(bm25.parse(query).query) is not None) == on_matrices
    fast, _, _ = bm25.search(query, None, 500)
    reference, _, _ = bm25.search(query, None, 500, whoosh=True)
    assert fast and {i for i, _ in fast} == {i for i, _ in reference}
    assert fast[0][0] == reference[0][0]
    assert len({i for i, _ in fast[:10]} & {i for i, _ in reference[:10]}) >= 0.8 * min(10, len(fast))
    guangzhou = {r.id for r in sample_index.records if r.city == "广州市"}
    filtered, _, _ = bm25.search(query, np.array([r.city == "广州市" for r in sample_index.records]), 500)
    assert {i for i, _ in filtered} == {i for i, _ in reference if i in guangzhou}


@pytest.mark.parametrize("outer, inner", [("运维", "网络安全 NOT 等保"), ("运维", "等保 NOT 测评"),
                                          ("name:运维", "goal:系统 NOT goal:平台")])
def test_a_nested_not_excludes_what_the_inner_query_finds(sample_index, outer, inner):
    """``A NOT (B NOT C)`` is A without the projects ``B NOT C`` finds, on the term matrices and in Whoosh."""
    def found(query: str, whoosh: bool = False) -> set[str]:
        return {doc_id for doc_id, _ in sample_index.bm25.search(query, None, 1000, whoosh=whoosh)[0]}

    wanted = found(f"{outer} OR zzqq") - found(inner)  # OR with a word no project has: the outer part as syntax
    assert wanted and found(f"{outer} NOT ({inner})") == wanted == found(f"{outer} NOT ({inner})", whoosh=True)


def test_a_city_field_takes_the_city_with_or_without_shi(sample_index):
    with_shi = sample_index.search("city:深圳市 AND 信息化", mode="bm25", limit=50)
    assert with_shi and all(h.record.city == "深圳市" for h in with_shi)
    assert [h.record.id for h in with_shi] == [h.record.id for h in sample_index.search("city:深圳 AND 信息化", mode="bm25", limit=50)]


@pytest.mark.slow
def test_updated_index_ranks_exactly_like_a_fresh_build(tmp_path):
    doc = tmp_path / "sz.txt"
    shutil.copy(SEED["sz_2023"], doc)
    updated, fresh = tmp_path / "updated", tmp_path / "fresh"
    index_paths([SEED["jm_2021"], SEED["gz_zwfw_2026"], doc], updated)
    doc.write_text(doc.read_text("utf-8").replace("信息化", "数字化"), "utf-8")
    result = index_paths([doc], updated)
    assert 0 < result.tokenized < result.records  # only the changed file's records were tokenized again
    assert CliRunner().invoke(cli, ["index", "--remove", str(SEED["jm_2021"]), "--index-dir", str(updated)]).exit_code == 0
    index_paths([SEED["gz_zwfw_2026"], doc], fresh)
    with GoalSearch.open(updated) as one, GoalSearch.open(fresh) as other:
        for query in ("数字化建设", "政务服务中心运维", "社会保障", "信息化"):
            first = [(h.record.id, round(h.bm25_score, 4)) for h in one.search(query, mode="bm25")]
            second = [(h.record.id, round(h.bm25_score, 4)) for h in other.search(query, mode="bm25")]
            assert first == second, query
        assert "信息化建设与运行" not in {r.name for r in one.records} and "数字化建设与运行" in {r.name for r in one.records}


def test_index_without_term_matrices_still_searches(sample_index_dir, tmp_path):
    """Indexes written before the term matrices existed rank plain queries with Whoosh."""
    copy = tmp_path / "old"
    shutil.copytree(sample_index_dir, copy)
    with GoalSearch.open(copy) as index:
        shutil.rmtree(index.generation / "terms")
    with GoalSearch.open(copy) as index:
        assert index.bm25.lexical is None
        assert "政务云服务运维项目" in " ".join(names(index.search("政务云运维", mode="bm25", limit=2)))
