"""A plain query (no syntax) as weighted terms: jieba words, character n-grams, synonyms.

Three things decide what a plain query's words count for (``indexer/data/fields.json``,
``query_terms``; every choice measured in ``benchmarks/README.md``):

- **Repeats.** A word's weight grows with how often the query says it, saturating:
  ``(k3 + 1)·qtf / (k3 + qtf)``, the query-term factor of Okapi BM25 (Robertson et al.,
  "Okapi at TREC-3", 1994; k3 = 8). A pasted procurement text repeats what it is about.
- **Key terms.** Of a long paste only the ``key_terms`` words (and as many n-grams) with the
  highest ``weight × idf`` are searched — TF-IDF keyword extraction with the index's own
  idf — so boilerplate (要求, 服务, 合同) does not dilute the ranking, and a 2,000-character
  paste costs no more than a paragraph.
- **Synonyms.** Short queries (up to ``synonyms_max_chars``) also search the alternatives
  of the domain terms they contain (``synonyms``), the found term's weight shared among them.

jieba words keep phrases, syntax and highlights; the n-grams (``indexer.analysis.ngrams``) match
what segmentation splits differently in the query and in a document.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from ...indexer.analysis.analyzer import query_groups, query_words
from ...indexer.analysis.ngrams import char_grams
from ...indexer.files import data_json

from .synonyms import Expansion, Synonyms

Group = tuple[str, tuple[str, ...]]  # a query word and, for long words, the dictionary words inside it


@lru_cache(maxsize=1)
def query_settings() -> dict:
    """How plain query words are weighted (``query_terms`` in ``data/fields.json``)."""
    data = data_json("fields.json")
    return data["query_terms"]


def saturated(count: int, k3: float) -> float:
    """Okapi BM25's query-term factor ``(k3 + 1)·qtf / (k3 + qtf)``: 1 for one mention, at most k3 + 1."""
    return (k3 + 1.0) * count / (k3 + count)


def key_terms(weights: dict[str, float], idf: Callable[[str], float], keep: int) -> dict[str, float]:
    """The ``keep`` terms with the highest ``weight × idf`` (all when there are no more)."""
    if len(weights) <= keep:
        return weights
    best = sorted(weights, key=lambda term: -weights[term] * idf(term))[:keep]
    return {term: weights[term] for term in best}


@dataclass
class PlainQuery:
    """What a plain query searches: the user's words, their n-grams, and synonym alternatives."""

    groups: list[Group]  # the user's words: records matching all of them rank first
    weights: list[float]  # one per group
    grams: dict[str, float]
    alternatives: list[tuple[list[Group], float]] = field(default_factory=list)  # synonym words and their weight
    expansions: list[Expansion] = field(default_factory=list)

    @property
    def words(self) -> set[str]:
        """Every jieba word searched (for highlights)."""
        found = {w for w, _ in self.groups} | {p for _, parts in self.groups for p in parts}
        return found | {w for groups, _ in self.alternatives for w, _ in groups}


def plain_query(text: str, extra_words: tuple[str, ...], synonyms: Synonyms,
                word_idf: Callable[[str], float], gram_idf: Callable[[str], float]) -> PlainQuery:
    """Weighted terms of ``text``; ``word_idf`` and ``gram_idf`` rank key terms by the index's own idf."""
    settings = query_settings()
    k3, keep = settings["k3"], settings["key_terms"]
    words = query_words(text, extra_words)
    counts = Counter(words)
    groups = query_groups(text, extra_words, words)
    weights = key_terms({word: saturated(counts[word], k3) for word, _ in groups}, word_idf, keep)
    groups = [group for group in groups if group[0] in weights]
    gram_counts = Counter(char_grams(text))
    grams = key_terms({gram: saturated(n, k3) for gram, n in gram_counts.items()}, gram_idf, keep)
    query = PlainQuery(groups, [weights[word] for word, _ in groups], grams)
    if len(text) <= settings["synonyms_max_chars"]:
        for expansion in synonyms.expansions(text):
            share = settings["synonym_weight"] / len(expansion.alternatives)
            query.expansions.append(expansion)
            for alternative in expansion.alternatives:
                query.alternatives.append((query_groups(alternative, extra_words), share))
                for gram in char_grams(alternative):
                    query.grams[gram] = query.grams.get(gram, 0.0) + share
    return query
