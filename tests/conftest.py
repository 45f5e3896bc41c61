"""Shared fixtures: the sample-corpus index is built once per test run.

It is built the way a new user builds it, by a first ``goalsearch search`` on an empty index
location (``first_search``); every other test gets a read-only handle (``sample_index``) or the
path of that index (``sample_index_dir``). A test that writes builds its own index in
``tmp_path``, or copies this one there. GOALSEARCH_INDEX points at a fresh temporary folder for
every test, so no test ever touches a real index.

Tests that need this index, build one or load the embedding model are ``slow``: those that use
the fixtures are marked here, the others in their files. ``python -m pytest -m "not slow"``
runs the rest.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from goalsearch.search import GoalSearch, sample_corpus

SAMPLES = sample_corpus()
SEED = {
    "gz_data_2026": SAMPLES / "000_775e4dcf1b94b677.txt",
    "gz_hrss_2024": SAMPLES / "001_97bd521a617196cd.txt",
    "jm_2021": SAMPLES / "002_745d9ae431b7d0e5.txt",
    "sz_2023": SAMPLES / "003_0488f224aa4533c8.txt",
    "gz_zwfw_2026": SAMPLES / "004_efb0ffd27daf31b7.txt",
}


_RUN_HOME: str | None = None


def pytest_configure(config):
    # Converted models go to a per-run home, never the user's cache; subprocesses inherit it.
    global _RUN_HOME
    if not os.environ.get("GOALSEARCH_HOME"):
        _RUN_HOME = os.environ["GOALSEARCH_HOME"] = tempfile.mkdtemp(prefix="goalsearch-home-")


def pytest_unconfigure(config):
    # The converted model is ~460 MB: a run that made the home removes it (every run used to leave one in /tmp).
    if _RUN_HOME:
        shutil.rmtree(_RUN_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_index_location(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALSEARCH_INDEX", str(tmp_path / "env-index"))
    monkeypatch.delenv("GOALSEARCH_MODEL", raising=False)


SESSION_INDEX_FIXTURES = {"first_search", "sample_index_dir", "sample_index"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SESSION_INDEX_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


class EmbeddedOnce:
    """An embedder for ``build_index`` that embeds each document text once per test run."""

    vectors: dict = {}

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.info = embedder.info

    def encode_documents(self, texts):
        import numpy as np

        texts = list(texts)
        model = (self.info.name, getattr(self.info, "backend", "torch"))
        missing = [t for t in dict.fromkeys(texts) if (model, t) not in self.vectors]
        if missing:
            self.vectors.update(((model, t), v) for t, v in zip(missing, self.embedder.encode_documents(missing)))
        if not texts:
            return self.embedder.encode_documents(texts)
        return np.stack([self.vectors[(model, t)] for t in texts])


@pytest.fixture(scope="session", autouse=True)
def each_text_embedded_once():
    """Many tests index the same sample documents into fresh folders: in this process, each text is
    embedded once per run. (An index reuses the vectors of its own previous generation, never another
    index's, so every small test index would otherwise embed its texts again: seconds each.) Only
    building goes through the cache; searching and the model tests use the real embedder.
    """
    import goalsearch.indexer.build

    original = goalsearch.indexer.build.load_embedder
    goalsearch.indexer.build.load_embedder = lambda model, backend=None: EmbeddedOnce(original(model, backend))
    yield
    goalsearch.indexer.build.load_embedder = original


@pytest.fixture(scope="session")
def first_search(tmp_path_factory):
    """A new user's first search: ``goalsearch search`` in a fresh folder, with no --index-dir and no
    GOALSEARCH_INDEX, so at the default location ``./index``.

    It builds the sample-corpus index there; (index path, click result) for the test that checks it.
    """
    from click.testing import CliRunner

    from goalsearch.cli import cli

    folder = tmp_path_factory.mktemp("sample")
    before, cwd = os.environ.pop("GOALSEARCH_INDEX", None), os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, ["search", "政务云运维", "--format", "json", "-n", "3"], catch_exceptions=False)
    finally:
        os.chdir(cwd)
        if before is not None:
            os.environ["GOALSEARCH_INDEX"] = before
    return folder / "index", result


@pytest.fixture(scope="session")
def sample_index_dir(first_search) -> Path:
    return first_search[0]


@pytest.fixture(scope="session")
def sample_index(sample_index_dir) -> GoalSearch:
    with GoalSearch.open(sample_index_dir) as index:
        yield index


def names(hits) -> list[str]:
    return [h.record.name for h in hits]
