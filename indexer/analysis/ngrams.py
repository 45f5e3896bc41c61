"""Character n-grams: the lexical field that does not depend on how jieba segments.

jieba cuts ``等保测评`` as one dictionary word, so a document that spells it
``等级保护测评`` shares no jieba token with the query; their characters still
overlap. Elasticsearch users add an ``ngram`` sub-field beside IK for this reason.
Each run of Chinese characters gives its characters and its bigrams; Latin words and
numbers are kept whole (lower-cased, NFKC-normalised so ``ＩＴ`` equals ``IT``).

    >>> char_grams("等保测评 ITSM")
    ['等', '保', '测', '评', '等保', '保测', '测评', 'itsm']
"""
from __future__ import annotations

import re
import unicodedata

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[0-9a-z]+")


def char_grams(text: str) -> list[str]:
    """Unigrams and bigrams of every Chinese run, and whole Latin words and numbers, in order."""
    grams: list[str] = []
    for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
        if run.isascii():
            grams.append(run)
            continue
        grams.extend(run)
        grams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return grams
