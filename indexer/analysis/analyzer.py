"""A jieba tokenizer that keeps Whoosh's tokenizer contract.

Whoosh expects ``pos`` to count tokens from ``start_pos`` and ``startchar`` /
``endchar`` to be character offsets from ``start_char`` (see ``RegexTokenizer``).
jieba's own ``ChineseAnalyzer`` stores character offsets as positions, so phrase
queries find nothing. Here positions count words of jieba's default segmentation;
at index time (``mode="index"``) the dictionary words inside a long word are
emitted too, at the same position, so ``政务`` finds ``政务云`` while the phrase
``"信息化运维"`` still matches ``信息化`` followed by ``运维``. Queries are cut
without the sub-words, so ``政务云运维`` means 政务云 AND 运维.
"""
from __future__ import annotations

import re
from functools import lru_cache, partial
from typing import Any, Iterator

from whoosh.analysis import LowercaseFilter, StopFilter, Token, Tokenizer

from ..files import data_text, goalsearch_home
from .synonyms import dictionary_limits, read_user_lines

_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The shipped stop words (read once: every query filters its words with them)."""
    return frozenset(line.strip() for line in data_text("stopwords.txt").splitlines()
                     if line.strip() and not line.startswith("#"))


def _import_jieba():
    """Import jieba quietly and without ``pkg_resources``.

    jieba 0.42 reads its dictionary through ``pkg_resources`` when it can import it (deprecated,
    a warning, and 60 ms of a cold search) and opens the file beside its module otherwise; it is
    hidden while jieba is imported, for jieba only.
    """
    import logging
    import sys

    if "jieba" not in sys.modules:
        hidden = "pkg_resources" not in sys.modules
        if hidden:
            sys.modules["pkg_resources"] = None  # makes `import pkg_resources` raise ImportError
        try:
            import jieba
        finally:
            if hidden:
                del sys.modules["pkg_resources"]
        jieba.setLogLevel(logging.WARNING)
    return sys.modules["jieba"]


@lru_cache(maxsize=8)
def whole_jieba(extra_words: tuple[str, ...]):
    """jieba with its whole dictionary in memory, plus the domain dictionary and ``extra_words``."""
    jieba = _import_jieba()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for line in data_text("userdict.txt").splitlines() + list(extra_words):
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            tokenizer.add_word(parts[0], freq)
    return tokenizer


@lru_cache(maxsize=8)
def _jieba(extra_words: tuple[str, ...]):
    """The tokenizer every analyzer uses: the same dictionary as ``whole_jieba``, read from a
    cache in the goalsearch home as words are looked up (``jieba_dict``), so a search does not
    wait for jieba to load it; the whole dictionary when the cache cannot be used."""
    from .jieba_dict import cache_path, stored_tokenizer

    _import_jieba()
    whole = partial(whole_jieba, extra_words)
    path = cache_path(goalsearch_home(), extra_words, data_text("userdict.txt"))
    return stored_tokenizer(path, whole) or whole()


def read_user_dict(path: str) -> tuple[str, ...]:
    """Lines of a jieba user dictionary (``word [freq] [tag]``), for ``--user-dict``: in any encoding
    documents are in, bounded like a synonyms file (``read_user_lines``)."""
    return tuple(read_user_lines(path, "user dictionary", dictionary_limits()["user_words"]))


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer over jieba, with the domain dictionary and any user words.

    >>> [t.text for t in JiebaTokenizer()("政务云运维", mode="query")]
    ['政务云', '运维']
    """

    def __init__(self, extra_words: tuple[str, ...] = ()) -> None:
        self.extra_words = tuple(extra_words)

    def __getstate__(self) -> dict:
        return {"extra_words": self.extra_words}

    def __setstate__(self, state: dict) -> None:
        self.extra_words = tuple(state.get("extra_words", ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer) and other.extra_words == self.extra_words

    def __hash__(self) -> int:
        return hash(self.extra_words)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "", blocks: BlockCuts | None = None,
                 **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        if isinstance(value, Analysed) and mode == "index":
            yield from _replay(token, value, positions, chars, keeporiginal, start_pos, start_char)
            return
        jieba = _jieba(self.extra_words)
        pos = start_pos
        words = jieba.tokenize(value, HMM=True) if blocks is None else blocks.tokenize(jieba, value)
        for word, start, end in words:
            if not _WORDLIKE.search(word):
                continue
            pieces = [(word, start, end)]
            if mode == "index" and len(word) > 2:
                pieces += [(word[i:i + n], start + i, start + i + n) for n in (2, 3) if n < len(word)
                           for i in range(len(word) - n + 1) if jieba.FREQ.get(word[i:i + n])]
            for text, begin, finish in pieces:
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar, token.endchar = start_char + begin, start_char + finish
                yield token
            pos += 1


class Analysed(str):
    """A field text carrying its index-time tokens (after the filters of ``chinese_analyzer``).

    A build cuts each text once (``analysed``) and hands the result both to Whoosh, whose
    ``JiebaTokenizer`` replays the tokens instead of running jieba again (the filters after it
    leave filtered tokens as they are), and to the term matrices. It is still the text, so the
    schema, and the analyzer pickled with it, stay as they were.
    """

    tokens: tuple[tuple[str, int, int, int], ...]  # (text, position, start char, end char)

    @property
    def words(self) -> list[str]:
        return [text for text, _pos, _start, _end in self.tokens]


class BlockCuts:
    """jieba's words of the blocks of text a build has cut, so that a block that recurs is cut once.

    jieba splits a text into blocks (runs of Chinese characters, Latin letters and digits, its
    ``re_han_default``, and what lies between them) and cuts each block on its own, so the words of
    a text are the words of its blocks in order: ``tokenize`` is ``jieba.tokenize(text, HMM=True)``.
    Budget documents repeat clauses (units, departments, stock phrases of goals and indicators).
    At most ``limit`` blocks are kept.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.words: dict[str, tuple[str, ...]] = {}
        self.cut = self.reused = 0

    def tokenize(self, jieba: Any, text: str) -> Iterator[tuple[str, int, int]]:
        start = 0
        for block in _import_jieba().re_han_default.split(text):
            if not block:
                continue
            words = self.words.get(block)
            if words is None:
                words = tuple(jieba.cut(block, HMM=True))
                self.cut += 1
                if len(self.words) < self.limit:
                    self.words[block] = words
            else:
                self.reused += 1
            for word in words:
                yield word, start, start + len(word)
                start += len(word)


def analysed(text: str, extra_words: tuple[str, ...] = (), blocks: BlockCuts | None = None) -> Analysed:
    """``text`` with its index-time tokens, cut by ``chinese_analyzer`` as Whoosh would cut it."""
    value = Analysed(text)
    tokens = chinese_analyzer(extra_words)(str(text), positions=True, chars=True, mode="index", blocks=blocks)
    value.tokens = tuple((t.text, t.pos, t.startchar, t.endchar) for t in tokens)
    return value


def whole_dictionary(extra_words: tuple[str, ...] = ()) -> None:
    """Segment with jieba's whole dictionary in memory from now on (the same entries as the cache
    of ``jieba_dict``, whose per-word lookups cost more than loading it when most words are read)."""
    from .jieba_dict import StoredFrequencies

    tokenizer = _jieba(tuple(extra_words))
    if isinstance(tokenizer.FREQ, StoredFrequencies):
        tokenizer.FREQ._switch_to_whole()


def _replay(token: Token, value: Analysed, positions: bool, chars: bool, keeporiginal: bool,
            start_pos: int, start_char: int) -> Iterator[Token]:
    for text, pos, begin, finish in value.tokens:
        token.text = text
        token.boost = 1.0
        token.stopped = False
        if keeporiginal:
            token.original = text
        if positions:
            token.pos = start_pos + pos
        if chars:
            token.startchar, token.endchar = start_char + begin, start_char + finish
        yield token


def chinese_analyzer(extra_words: tuple[str, ...] = ()):
    """jieba tokens, lower-cased, stop words removed: the analyzer of every text field."""
    return JiebaTokenizer(extra_words) | LowercaseFilter() | StopFilter(stoplist=stop_words(), minsize=1, renumber=False)


def query_words(text: str, extra_words: tuple[str, ...] = ()) -> list[str]:
    """Every term of a plain query, in order, repeats kept (a long paste says what matters by repeating it)."""
    analyzer = chinese_analyzer(extra_words)
    return [t.text for t in analyzer(text, mode="query")]


def query_terms(text: str, extra_words: tuple[str, ...] = ()) -> list[str]:
    """The distinct terms a plain query asks for, in order."""
    return list(dict.fromkeys(query_words(text, extra_words)))


def query_groups(text: str, extra_words: tuple[str, ...] = (),
                 words: list[str] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """Each query word with the dictionary words inside it (for words of four or more characters).

    A domain word like ``视频专网`` should also find ``视频…专网`` written apart, so the
    search side asks for the word itself OR all of its parts. ``words`` (from
    ``query_words``) saves cutting the text again.

    >>> query_groups("视频专网")
    [('视频专网', ('视频', '专网'))]
    """
    jieba = _jieba(tuple(extra_words))
    stops = stop_words()
    groups = []
    for term in dict.fromkeys(words if words is not None else query_words(text, extra_words)):
        parts: tuple[str, ...] = ()
        if len(term) >= 4 and _WORDLIKE.match(term) and not term.isascii():
            parts = tuple(dict.fromkeys(term[i:i + 2] for i in range(len(term) - 1)
                                        if jieba.FREQ.get(term[i:i + 2]) and term[i:i + 2] not in stops))
            covered = set().union(*[range(term.index(p), term.index(p) + 2) for p in parts]) if parts else set()
            if len(covered) < len(term) - 1:
                parts = ()  # the parts must cover the word, or they change its meaning
        groups.append((term, parts))
    return groups


def term_spans(text: str, terms: set[str], extra_words: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """Character ranges of ``text`` where index-time tokens equal one of ``terms``, merged."""
    analyzer = chinese_analyzer(extra_words)
    spans = sorted((t.startchar, t.endchar) for t in analyzer(text, chars=True, mode="index") if t.text in terms)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
