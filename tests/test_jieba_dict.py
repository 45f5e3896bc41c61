"""jieba's dictionary read from the cache in the goalsearch home segments exactly as the whole dictionary."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SAMPLES
from goalsearch.indexer.analysis import analyzer, jieba_dict
from goalsearch.indexer.analysis.analyzer import query_words, whole_jieba

EXTRA = ("智慧人社大脑",)


def sample_lines() -> list[str]:
    return [line for path in sorted(SAMPLES.glob("*.txt"))
            for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture
def fresh_tokenizers(tmp_path, monkeypatch):
    """A new goalsearch home and no tokenizer made yet in this process."""
    monkeypatch.setenv("GOALSEARCH_HOME", str(tmp_path / "home"))
    analyzer._jieba.cache_clear()
    yield tmp_path / "home"
    analyzer._jieba.cache_clear()


def segmented(tokenizer, lines: list[str]) -> list[list[tuple[str, int, int]]]:
    return [list(tokenizer.tokenize(line, HMM=True)) for line in lines]


def test_the_stored_dictionary_segments_every_sample_line_as_the_whole_one(fresh_tokenizers):
    lines = sample_lines()
    stored = analyzer._jieba(EXTRA)
    assert isinstance(stored.FREQ, jieba_dict.StoredFrequencies)
    assert segmented(stored, lines) == segmented(whole_jieba(EXTRA), lines)
    assert list((fresh_tokenizers / "jieba").glob("dict-*.sqlite")), "the cache is written in the goalsearch home"


def test_user_words_make_their_own_cache(fresh_tokenizers):
    assert query_words("智慧人社大脑上线", EXTRA)[0] == "智慧人社大脑"
    assert query_words("智慧人社大脑上线")[0] == "智慧"
    assert len(list((fresh_tokenizers / "jieba").glob("dict-*.sqlite"))) == 2


def test_bulk_segmentation_switches_to_the_whole_dictionary_and_stays_the_same(fresh_tokenizers, monkeypatch):
    monkeypatch.setattr(jieba_dict, "WHOLE_AFTER", 100)
    lines = sample_lines()[:200]
    stored = analyzer._jieba(())
    assert segmented(stored, lines) == segmented(whole_jieba(()), lines)
    assert stored.FREQ is whole_jieba(()).FREQ


def test_a_damaged_cache_is_written_again(fresh_tokenizers):
    analyzer._jieba(())
    (cache,) = (fresh_tokenizers / "jieba").glob("dict-*.sqlite")
    cache.write_bytes(b"not a database" * 100)
    analyzer._jieba.cache_clear()
    stored = analyzer._jieba(())
    assert isinstance(stored.FREQ, jieba_dict.StoredFrequencies)
    assert query_words("政务云运维项目") == ["政务云", "运维", "项目"]


def test_an_unwritable_home_uses_the_whole_dictionary(fresh_tokenizers):
    fresh_tokenizers.parent.mkdir(exist_ok=True)
    fresh_tokenizers.write_text("a file where the home folder should be")
    assert analyzer._jieba(()) is whole_jieba(())
    assert query_words("政务云运维项目") == ["政务云", "运维", "项目"]


def test_cli_search_ranks_the_same_with_the_stored_and_the_whole_dictionary(sample_index_dir, fresh_tokenizers,
                                                                            monkeypatch):
    runner = CliRunner()
    query = "人社数据中心软件运维和社保卡制发，机房供配电维护"
    args = ["search", query, "--mode", "bm25", "--format", "json", "--index-dir", str(sample_index_dir)]
    fresh_tokenizers.parent.mkdir(exist_ok=True)
    fresh_tokenizers.write_text("a file where the home folder should be")
    whole = runner.invoke(cli, args)
    analyzer._jieba.cache_clear()
    monkeypatch.setenv("GOALSEARCH_HOME", str(fresh_tokenizers.parent / "writable"))
    stored = runner.invoke(cli, args)
    assert isinstance(analyzer._jieba(()).FREQ, jieba_dict.StoredFrequencies)
    assert whole.exit_code == 0 and stored.exit_code == 0, whole.output + stored.output
    assert stored.output == whole.output and "软件运维" in stored.output
