"""Every flag of ``search`` and ``similar`` honoured in every combination it accepts, or refused in one line.

The table below names each flag with the condition it puts on a hit, written here from the JSON a user
sees (not from ``search.filters``, so the test cannot agree with a wrong filter by construction). Every
pair of flags is run through the command line; each hit must meet every condition, the command must give
what the Python API gives for the same arguments, and with an empty query (every project the filters
allow, by amount) the hits must be exactly the projects of the whole index that meet the conditions.
"""
from __future__ import annotations

import itertools
import json

import pytest
from click.testing import CliRunner

from goalsearch.cli import cli

# flag → (command-line arguments, API keyword arguments, the condition on a hit's JSON)
FILTERS = {
    "city": (["--city", "深圳"], {"city": ["深圳"]}, lambda h: h["city"] == "深圳市"),
    "two cities": (["--city", "江门", "--city", "深圳"], {"city": ["江门", "深圳"]},
                   lambda h: h["city"] in ("江门市", "深圳市")),
    "year": (["--year", "2026"], {"year": 2026}, lambda h: h["year"] == 2026),
    "years": (["--years", "2021-2024"], {"years": (2021, 2024)}, lambda h: 2021 <= h["year"] <= 2024),
    "department": (["--department", "人力资源"], {"department": "人力资源"}, lambda h: "人力资源" in h["department"]),
    "unit": (["--unit", "中心"], {"unit": "中心"}, lambda h: "中心" in h["unit"]),
    "category": (["--category", "运维"], {"category": ["运维"]}, lambda h: h["category"] == "运维"),
    "min amount": (["--min-amount", "200"], {"min_amount": 200.0}, lambda h: h["amount"] >= 200),
    "max amount": (["--max-amount", "500"], {"max_amount": 500.0}, lambda h: h["amount"] <= 500),
    "section": (["--section", "key_project"], {"section": ["key_project"]},
                lambda h: "key_project" in h["sections"]),
    "kind": (["--kind", "budget"], {"kind": ["budget"]}, lambda h: h["kind"] == "budget"),
}
# Pairs the command refuses, with a word of the one line that says why.
REFUSED = {frozenset({"year", "years"}): "contradict"}

# Two entries of one repeatable option are one option with two values (either city), not two conditions.
PAIRS = [pair for pair in itertools.combinations(FILTERS, 2) if set(pair) != {"city", "two cities"}]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def json_hits(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result, word: str) -> None:
    """One line on stderr, exit 2, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in result.output


@pytest.fixture(scope="module")
def every_project(sample_index_dir) -> list[dict]:
    return json_hits(run("search", "--format", "json", "-n", "1000", "--index-dir", sample_index_dir))


def test_every_single_flag_narrows_to_some_projects_but_not_all(every_project):
    """A flag the samples cannot tell from no flag (all or nothing) would make the pair checks vacuous."""
    for name, (_, _, condition) in FILTERS.items():
        kept = sum(map(condition, every_project))
        assert 0 < kept <= len(every_project), name
    assert len(every_project) == 314


@pytest.mark.parametrize("pair", PAIRS, ids=[" + ".join(p) for p in PAIRS])
def test_a_pair_of_filters_lists_exactly_the_projects_that_meet_both(pair, every_project, sample_index_dir):
    args = [a for name in pair for a in FILTERS[name][0]]
    result = run("search", *args, "--format", "json", "-n", "1000", "--index-dir", sample_index_dir)
    if frozenset(pair) in REFUSED:
        refused(result, REFUSED[frozenset(pair)])
        return
    wanted = [h["id"] for h in every_project if all(FILTERS[name][2](h) for name in pair)]
    hits = json_hits(result)
    assert sorted(h["id"] for h in hits) == sorted(wanted)
    amounts = [h["amount"] for h in hits]
    assert amounts == sorted(amounts, reverse=True)


MODES = ("bm25", "semantic", "hybrid")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fusion", ("convex", "rrf"))
@pytest.mark.parametrize("pair", [p for p in PAIRS if frozenset(p) not in REFUSED][::3])
def test_search_honours_mode_fusion_limit_and_filters_together(mode, fusion, pair, sample_index, sample_index_dir):
    args = [a for name in pair for a in FILTERS[name][0]]
    kwargs = {k: v for name in pair for k, v in FILTERS[name][1].items()}
    result = run("search", "信息化运维", "--mode", mode, "--fusion", fusion, "-n", "4", *args, "--format", "json",
                 "--index-dir", sample_index_dir)
    hits = json_hits(result)
    assert len(hits) <= 4
    assert all(FILTERS[name][2](h) for h in hits for name in pair)
    api = sample_index.search("信息化运维", mode=mode, fusion=fusion, limit=4, **kwargs)
    assert [h["id"] for h in hits] == [h.record.id for h in api]
    sides = {"bm25": ("bm25_rank",), "semantic": ("semantic_rank",), "hybrid": ("bm25_rank", "semantic_rank")}[mode]
    assert all(any(h[side] is not None for side in sides) for h in hits)
    if mode == "bm25":
        assert all(h["semantic_rank"] is None for h in hits)


SIMILAR_FLAGS = {
    "other cities": (["--other-cities"], {"other_cities": True}),
    "other years": (["--other-years"], {"other_years": True}),
    "other cities and years": (["--other-cities", "--other-years"], {"other_cities": True, "other_years": True}),
    "include family": (["--other-years", "--include-family"], {"other_years": True, "include_family": True}),
}


@pytest.mark.parametrize("own", SIMILAR_FLAGS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["category", "min amount", "years", "department"])
def test_similar_honours_its_own_flags_with_each_filter(own, mode, name, every_project, sample_index,
                                                       sample_index_dir):
    project = next(h for h in every_project if h["name"].startswith("广州市人力资源和社会保障数据服务中心2026"))
    args, kwargs = SIMILAR_FLAGS[own]
    result = run("similar", project["id"], *args, *FILTERS[name][0], "--mode", mode, "-n", "8", "--format", "json",
                 "--index-dir", sample_index_dir)
    hits = json_hits(result)
    assert project["id"] not in {h["id"] for h in hits}
    assert all(FILTERS[name][2](h) for h in hits)
    if kwargs.get("other_cities"):
        assert all(h["city"] != project["city"] for h in hits)
    if kwargs.get("other_years"):
        assert all(h["year"] != project["year"] for h in hits)
    if not kwargs.get("include_family") and (kwargs.get("other_cities") or kwargs.get("other_years")):
        assert all(h["family_id"] != project["family_id"] for h in hits)
    api = sample_index.similar(project["id"], mode=mode, limit=8, **kwargs, **FILTERS[name][1])
    assert [h["id"] for h in hits] == [h.record.id for h in api]


def test_include_family_brings_back_the_projects_own_family(every_project, sample_index_dir):
    """Without this the 'include family' rows above could pass with the flag ignored."""
    project = next(h for h in every_project if h["name"].startswith("广州市人力资源和社会保障数据服务中心2026"))
    family = {h["id"] for h in every_project if h["family_id"] == project["family_id"]} - {project["id"]}
    assert family, "the chosen project has no family in other years"
    common = ("similar", project["id"], "--other-years", "-n", "50", "--format", "json", "--index-dir",
              sample_index_dir)
    without = {h["id"] for h in json_hits(run(*common))}
    with_family = {h["id"] for h in json_hits(run(*common, "--include-family"))}
    assert not family & without and family & with_family


REFUSALS = [
    (("search", "运维", "--explain", "--group", "family"), "--explain"),
    (("search", "运维", "--year", "2026", "--years", "2021-2023"), "contradict"),
    (("search", "运维", "--years", "2026-2021"), "reversed"),
    (("search", "运维", "--min-amount", "500", "--max-amount", "100"), "reversed"),
    (("search", "运维", "--min-amount", "-1"), "negative"),
    (("similar", "--text", "热线话务服务", "--other-cities"), "a --text has none"),
    (("similar", "--text", "热线话务服务", "--other-years"), "a --text has none"),
    (("similar", "--text", "热线话务服务", "--include-family"), "a --text has none"),
]


@pytest.mark.parametrize("args,word", REFUSALS, ids=[" ".join(a) for a, _ in REFUSALS])
def test_combinations_that_cannot_hold_are_refused_in_one_line(args, word, sample_index_dir):
    refused(run(*args, "--index-dir", sample_index_dir), word)


def test_a_listing_shows_each_projects_family_as_a_search_does(every_project, sample_index):
    """An empty query once listed every project with family_id null (the listing skipped the families)."""
    assert sum(h["family_id"] is not None for h in every_project) > 10
    for hit in every_project[:40]:
        assert hit["family_id"] == sample_index.family_id_of(hit["id"])
