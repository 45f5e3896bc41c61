"""One tokenization per build (issue #32): what Whoosh and the term matrices get is what cutting each text gave."""
from __future__ import annotations

import pytest

from goalsearch.indexer import parse_paths
from goalsearch.indexer.analysis.analyzer import BlockCuts, _jieba, analysed, chinese_analyzer
from goalsearch.indexer.storage import fulltext
from goalsearch.indexer.storage.field_tokens import FieldTokens
from goalsearch.indexer.storage.fulltext import field_texts, open_fulltext, write_fulltext
from goalsearch.search import sample_corpus

MIXED = ["政务云运维服务，2026年度 IT-运维\n信息化 系统 稳定运行；满意度≥90%", "ＡＢＣ云平台 v2.0 （二期） ",
         "", "   ", "运维运维运维。运维"]


@pytest.fixture(scope="module")
def records():
    found, _ = parse_paths([sample_corpus()])
    return found[:60]


def _postings(directory):
    """Every (field, term, docnum, positions) of a Whoosh index, by record id rather than docnum."""
    ix = open_fulltext(directory)
    try:
        with ix.searcher() as searcher:
            ids = {num: fields["id"] for num, fields in searcher.iter_docs()}
            reader = searcher.reader()
            found = set()
            for field in fulltext.TEXT_FIELDS:
                for term in reader.lexicon(field):
                    matcher = reader.postings(field, term)
                    while matcher.is_active():
                        found.add((field, term, ids[matcher.id()], tuple(matcher.value_as("positions"))))
                        matcher.next()
            # A segment where no document has a field keeps no lengths for it: None, where one segment says 0.
            lengths = {(field, ids[num]): reader.doc_field_length(num, field) or 0
                       for num in ids for field in fulltext.TEXT_FIELDS}
            return found, lengths
    finally:
        ix.close()


@pytest.mark.parametrize("text", MIXED)
def test_blocks_cut_as_jieba_cuts_the_whole_text(text):
    jieba = _jieba(())
    blocks = BlockCuts(limit=1000)
    twice = [list(blocks.tokenize(jieba, text)) for _ in range(2)]
    assert twice[0] == twice[1] == list(jieba.tokenize(text, HMM=True))


def test_block_cuts_keep_at_most_their_limit():
    blocks = BlockCuts(limit=2)
    list(blocks.tokenize(_jieba(()), "一二。三四，五六；七八"))
    assert len(blocks.words) == 2 and blocks.cut == 7


def test_analysed_texts_replay_what_the_analyzer_cuts(records):
    analyzer = chinese_analyzer(())
    blocks = BlockCuts(limit=100_000)
    for text in MIXED + [t for r in records for t in field_texts(r).values()]:
        plain = [(t.text, t.pos, t.startchar, t.endchar)
                 for t in analyzer(text, positions=True, chars=True, mode="index")]
        value = analysed(text, (), blocks)
        assert list(value.tokens) == plain
        replayed = [(t.text, t.pos, t.startchar, t.endchar)
                    for t in analyzer(value, positions=True, chars=True, mode="index")]
        assert replayed == plain
    assert blocks.reused  # the samples repeat blocks, so the cache was used


def test_whoosh_gets_the_same_postings_from_analysed_texts(records, tmp_path, monkeypatch):
    write_fulltext(tmp_path / "plain", records, set(), ())
    monkeypatch.setattr(fulltext, "data_json", lambda name: {"segment_records": 7, "writer_limitmb": 16})
    write_fulltext(tmp_path / "shared", records, set(), (), texts=FieldTokens((), len(records)).texts)
    assert len(open_fulltext(tmp_path / "shared").reader().leaf_readers()) > 1  # several segments were written
    assert _postings(tmp_path / "shared") == _postings(tmp_path / "plain")


def test_the_term_matrices_take_the_words_whoosh_was_given(records):
    tokens = FieldTokens((), len(records))
    analyzer = chinese_analyzer(())
    for record in records:
        tokens.texts(record)
    for record in records:
        expected = {field: [t.text for t in analyzer(text, mode="index")] for field, text in field_texts(record).items()}
        assert {field: list(words) for field, words in tokens.words(record).items()} == expected
    assert not tokens._waiting  # taken once: nothing is held after the term matrices took it


def test_term_matrices_are_the_same_whatever_block_the_triplets_are_compacted_in(records, tmp_path, monkeypatch):
    """The term stage holds postings as int32 blocks (issue #32, a million records); the files may not change."""
    from goalsearch.indexer.storage import terms

    def term_files(folder):
        terms.write_terms(folder, records, ())
        return {path.name: path.read_bytes() for path in sorted((folder / terms.TERMS).iterdir())}

    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    whole = term_files(tmp_path / "one")
    compacted = []
    original = terms.Triplets._compact
    monkeypatch.setattr(terms.Triplets, "BLOCK", 97)
    monkeypatch.setattr(terms.Triplets, "_compact", lambda self, field: (compacted.append(field), original(self, field)))
    blocked = term_files(tmp_path / "many")
    assert len(compacted) > 3 * len(terms.TERM_FIELDS)  # many blocks a field, not one at the end
    assert whole == blocked


def test_a_field_matrix_is_scipys_canonical_csc_of_its_triplets():
    """``_csc`` counts-sorts by column without argsort (issue #32); the matrix is scipy's own, counts narrowed,
    whatever order the rows came in (an update appends the reused rows after the new ones)."""
    import numpy as np
    from hypothesis import given, settings, strategies as st
    from scipy import sparse

    from goalsearch.indexer.storage.terms import _csc, count_dtype

    @settings(max_examples=60, deadline=None)
    @given(st.sets(st.tuples(st.integers(0, 40), st.integers(0, 25)), max_size=200).flatmap(
        lambda cells: st.tuples(st.permutations(sorted(cells)),
                                st.lists(st.integers(1, 70_000), min_size=len(cells), max_size=len(cells)))))
    def check(drawn):
        cells, counts = drawn
        rows = np.array([r for r, _ in cells], dtype=np.int32)
        cols = np.array([c for _, c in cells], dtype=np.int32)
        counts = np.array(counts, dtype=np.int32)
        made = _csc(rows, cols, counts, (41, 26))
        made.sort_indices()
        expected = sparse.csc_matrix((counts, (rows, cols)), shape=(41, 26))
        assert made.data.dtype == count_dtype(int(counts.max()) if len(counts) else 0)
        assert made.indices.dtype == made.indptr.dtype == np.int32
        assert np.array_equal(made.indptr, expected.indptr) and np.array_equal(made.indices, expected.indices)
        assert np.array_equal(made.data, expected.data)

    check()


def test_triplets_give_back_each_fields_postings_in_the_order_added(monkeypatch):
    from goalsearch.indexer.storage.terms import Triplets

    monkeypatch.setattr(Triplets, "BLOCK", 3)
    triplets = Triplets(("a", "b"))
    added = {"a": [], "b": []}
    for row, per_field in enumerate([{"a": [(5, 1), (2, 300)]}, {}, {"a": [(1, 2)], "b": [(7, 1)]},
                                     {"a": [(0, 1), (9, 4), (3, 1), (4, 2)]}, {"b": []}]):
        for field, pairs in per_field.items():
            cols, counts = triplets.lists(field)
            for col, count in pairs:
                cols.append(col)
                counts.append(count)
                added[field].append((row, col, count))
            triplets.row_done(field, row, len(pairs))
        triplets.compact_full()
    for field in ("a", "b"):
        rows, cols, counts = triplets.take(field)
        assert list(zip(rows.tolist(), cols.tolist(), counts.tolist())) == added[field]
        assert rows.dtype == cols.dtype == "int32"
    assert counts.dtype == "uint8"
