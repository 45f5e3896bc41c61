"""indexer.analysis: text to tokens — jieba with the domain dictionary, character n-grams, synonyms.

Whoosh's ``analysis`` package is the model: the jieba tokenizer follows Whoosh's tokenizer contract
and composes with its filters (``analyzer``); jieba's dictionary is cached in the goalsearch home
(``jieba_dict``); ``ngrams`` gives the character bigrams that match what jieba splits differently;
``synonyms`` reads the ``a = b = c`` groups of the domain terms.
"""
from .analyzer import (
    chinese_analyzer,
    query_groups,
    query_terms,
    query_words,
    read_user_dict,
    stop_words,
    term_spans,
    whole_jieba,
)
from .ngrams import char_grams
from .synonyms import package_synonym_lines, parse_groups, read_synonym_lines

__all__ = [
    "char_grams", "chinese_analyzer", "package_synonym_lines", "parse_groups", "query_groups", "query_terms",
    "query_words", "read_synonym_lines", "read_user_dict", "stop_words", "term_spans", "whole_jieba",
]
