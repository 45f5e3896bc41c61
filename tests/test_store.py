"""The record store and the memory-mapped arrays: same answers as the files they replaced.

``tests/data/dev_rankings.json`` holds the rankings of every dev-set query in every mode, alone
and under filters, as the index answered them before records moved to SQLite and the arrays to
memory maps (``tests/dev_rankings.py`` writes it).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dev_rankings import dev_queries, rankings

ROOT = Path(__file__).resolve().parent.parent
TIE = 2e-3  # int8 document vectors move by up to ~1e-3 with their batch mates (tests embed in other batches)


def _same_ranking(expected: list, found: list) -> bool:
    """Same ids in the same order, except that hits whose scores are within ``TIE`` may swap."""
    if len(expected) != len(found):
        return False
    for (want_id, want_score), (got_id, got_score) in zip(expected, found):
        if abs(want_score - got_score) > TIE:
            return False
        if want_id != got_id and not any(i == got_id and abs(s - want_score) <= TIE for i, s in expected):
            return False
    return {i for i, _ in expected} == {i for i, _ in found} or abs(expected[-1][1] - found[-1][1]) <= TIE


@pytest.fixture(scope="module")
def answered(sample_index):
    return rankings(sample_index, dev_queries())


def test_dev_set_rankings_unchanged(answered):
    expected = json.loads((ROOT / "tests" / "data" / "dev_rankings.json").read_text("utf-8"))
    assert answered.keys() == expected.keys()
    exact = [key for key in expected if key.split("|")[0] in ("bm25", "list")]
    assert [key for key in exact if answered[key] != expected[key]] == []
    assert [key for key in expected if not _same_ranking(expected[key], answered[key])] == []
