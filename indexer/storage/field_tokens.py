"""Each record's field texts cut once per build, for Whoosh and for the term matrices (issue #32).

Both sides index the same seven texts with the same jieba analyzer; cutting each twice was
most of a build. The full-text writer asks ``texts`` for a record's fields as ``Analysed``
texts (Whoosh replays their tokens), which also keeps the words for ``words``; the term
matrices then take them (once: they are dropped when taken) instead of cutting the texts
again. A record the full-text side did not see (an update adds only the changed sources to
Whoosh) is cut when the term matrices ask. Words are interned, so what waits between the two
writers is one pointer per token.
"""
from __future__ import annotations

from ..analysis.analyzer import Analysed, BlockCuts, analysed, whole_dictionary
from ..files import data_json
from ..records import Record
from .fulltext import field_texts


class FieldTokens:
    """The index-time tokens of records' full-text fields, cut once per build."""

    def __init__(self, extra_words: tuple[str, ...], records: int) -> None:
        settings = data_json("build.json")
        self.extra_words = tuple(extra_words)
        self.memo_chars = settings["memo_chars"]
        if records >= settings["whole_dictionary_records"]:
            whole_dictionary(self.extra_words)
        self.blocks = BlockCuts(settings["memo_blocks"])
        self._memo: dict[str, tuple[Analysed, tuple[str, ...]]] = {}
        self._interned: dict[str, str] = {}
        self._waiting: dict[str, dict[str, tuple[str, ...]]] = {}

    def _cut(self, text: str) -> tuple[Analysed, tuple[str, ...]]:
        known = self._memo.get(text) if len(text) <= self.memo_chars else None
        if known is not None:
            return known
        value = analysed(text, self.extra_words, self.blocks)
        intern = self._interned.setdefault
        cut = (value, tuple(intern(word, word) for word in value.words))
        if len(text) <= self.memo_chars:
            self._memo[text] = cut
        return cut

    def texts(self, record: Record) -> dict[str, Analysed]:
        """The full-text fields of ``record`` as analysed texts; their words wait for ``words``."""
        cuts = {field: self._cut(text) for field, text in field_texts(record).items()}
        self._waiting[record.id] = {field: words for field, (_value, words) in cuts.items()}
        return {field: value for field, (value, _words) in cuts.items()}

    def words(self, record: Record) -> dict[str, tuple[str, ...]]:
        """The index-time words of each full-text field of ``record`` (cut now unless ``texts`` did)."""
        waiting = self._waiting.pop(record.id, None)
        if waiting is not None:
            return waiting
        return {field: self._cut(text)[1] for field, text in field_texts(record).items()}
