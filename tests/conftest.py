"""Shared fixtures: the sample-corpus index is built once per test run.

Tests get a read-only handle (``sample_index``) or the path of that index
(``sample_index_dir``); a test that writes builds its own index in ``tmp_path``.
GOALSEARCH_INDEX points at a fresh temporary folder for every test, so no test
ever touches a real index.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from indexer import index_paths
from search import GoalSearch, sample_corpus

SAMPLES = sample_corpus()
SEED = {
    "gz_data_2026": SAMPLES / "000_775e4dcf1b94b677.txt",
    "gz_hrss_2024": SAMPLES / "001_97bd521a617196cd.txt",
    "jm_2021": SAMPLES / "002_745d9ae431b7d0e5.txt",
    "sz_2023": SAMPLES / "003_0488f224aa4533c8.txt",
    "gz_zwfw_2026": SAMPLES / "004_efb0ffd27daf31b7.txt",
}


def pytest_configure(config):
    # Converted models go to a per-run home, never the user's cache; subprocesses inherit it.
    if not os.environ.get("GOALSEARCH_HOME"):
        os.environ["GOALSEARCH_HOME"] = tempfile.mkdtemp(prefix="goalsearch-home-")


@pytest.fixture(autouse=True)
def isolated_index_location(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALSEARCH_INDEX", str(tmp_path / "env-index"))
    monkeypatch.delenv("GOALSEARCH_MODEL", raising=False)


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "index"
    index_paths([SAMPLES], path)
    return path


@pytest.fixture(scope="session")
def sample_index(sample_index_dir) -> GoalSearch:
    with GoalSearch.open(sample_index_dir) as index:
        yield index


def names(hits) -> list[str]:
    return [h.record.name for h in hits]
