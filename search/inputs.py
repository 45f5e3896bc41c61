"""Query text as it arrives, made safe to search: valid text, bounded size, and notes.

Every query path (``search``, ``similar --text``) goes through ``clean_query`` before
parsing, so one rule bounds them all:

- text that is not valid Unicode (a GBK query in a UTF-8 terminal reaches Python as
  lone surrogates) is refused in one line instead of failing deep in jieba or output;
- the text is cut at ``max_chars``;
- wildcard and prefix terms (``运*``, ``社?卡``) are kept up to ``MAX_WILDCARDS``: each one
  expands over the vocabulary, and 2,000 of them took 15 s;
- full-width letters and digits (``１２３４５``, ``ＩＴＳＭ``, typed with a Chinese input method) are read as
  the ASCII ones the documents and the n-grams use; full-width punctuation stays (``：`` is no field);
- a field with nothing after it (``name:``) is left out, and a reversed range
  (``year:[2030 TO 2020]``) is searched the right way round, each with a note, where
  they used to match nothing silently.
"""
from __future__ import annotations

import re

from ..indexer import UsageError

MAX_WILDCARDS = 8
_HALF_WIDTH = {code: code - 0xFEE0 for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
               for code in range(start, end + 1)}  # ０-９, Ａ-Ｚ, ａ-ｚ → 0-9, A-Z, a-z
_WILDCARD = re.compile(r'(?<![\w"])([^\s"()]*[*?][^\s"()]*)')
_EMPTY_FIELD = re.compile(r"\b([a-z_]+):(?=\s|$|\))")
_RANGE = re.compile(r"\b([a-z_]+):([\[{])\s*(-?\d+(?:\.\d+)?)\s+TO\s+(-?\d+(?:\.\d+)?)\s*([\]}])")


def valid_text(text: str, what: str = "the query") -> str:
    """``text`` itself, or UsageError when it holds bytes that were not valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not valid UTF-8 (was it typed in another encoding, such as GBK?); "
                         "set the terminal to UTF-8 and try again") from None
    return text


def clean_query(text: str, max_chars: int) -> tuple[str, list[str]]:
    """The query to search and notes about what was changed (see the module docstring)."""
    notes: list[str] = []
    text = valid_text(text)[:max_chars].translate(_HALF_WIDTH)
    if _EMPTY_FIELD.search(text):
        fields = sorted(set(_EMPTY_FIELD.findall(text)))
        notes.append(f"{', '.join(f + ':' for f in fields)} has nothing after it and was left out")
        text = _EMPTY_FIELD.sub(" ", text)

    def unreversed(match: re.Match) -> str:
        field, opening, low, high, closing = match.groups()
        if float(low) <= float(high):
            return match.group(0)
        notes.append(f"range {field}:[{low} TO {high}] is reversed; searched {field}:[{high} TO {low}]")
        return f"{field}:{opening}{high} TO {low}{closing}"

    text = _RANGE.sub(unreversed, text)
    wildcards = _WILDCARD.findall(text)
    if len(wildcards) > MAX_WILDCARDS:
        count = 0

        def bounded(match: re.Match) -> str:
            nonlocal count
            count += 1
            return match.group(0) if count <= MAX_WILDCARDS else " "

        text = _WILDCARD.sub(bounded, text)
        notes.append(f"query has {len(wildcards)} wildcard or prefix terms; the first {MAX_WILDCARDS} were used")
    return " ".join(text.split()), notes
