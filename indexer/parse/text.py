"""Cleaning of cell text damaged by PDF extraction.

PDF-to-text leaves HTML tags (``<p>``, ``<u>``, ``<sup>``), LaTeX fragments
(``$\\geq 90\\%$``), spaces inside CJK runs (``专 项 业 务``), names broken by a
space (``运营中心 2026年``) and U+FFFD where bytes were lost. These helpers undo
what can be undone and report what cannot.
"""
from __future__ import annotations

import math
import re

_TAG = re.compile(r"</?(?:p|u|sup|sub|b|i|strong|em|span|br|div)\b[^>]*>", re.IGNORECASE)
_LATEX_SYMBOLS = {r"\geq": "≥", r"\leq": "≤", r"\ge": "≥", r"\le": "≤", r"\%": "%", r"\times": "×", r"\sim": "~"}
_LATEX_MATH = re.compile(r"\$([^$]{0,80})\$")
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’、，。；：！？（）《》【】"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u00a0\u3000]+|[ \t\u00a0\u3000]+(?=[{_CJK}])")
_MULTI_SPACE = re.compile(r"\s+")
_AMOUNT = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^[+-]?\d+(?:\.\d+)?$")
REPLACEMENT_CHAR = "\ufffd"


def _latex(match: re.Match) -> str:
    body = match.group(1)
    for macro, symbol in _LATEX_SYMBOLS.items():
        body = body.replace(macro, symbol)
    return body.replace("{", "").replace("}", "").replace(" ", "")


def clean_cell(text: str) -> str:
    """Strip tags and LaTeX, drop spaces that PDF extraction put next to CJK text.

    >>> clean_cell("<p>广州市数字政府运营中心 2026年 项目</p>")
    '广州市数字政府运营中心2026年项目'
    >>> clean_cell("制卡成功率 $\\\\geq 90\\\\%$ 等")
    '制卡成功率≥90%等'
    """
    text = _TAG.sub(" ", text)
    text = _LATEX_MATH.sub(_latex, text)
    text = text.replace(REPLACEMENT_CHAR, "")
    text = _MULTI_SPACE.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", text)


def is_damaged(text: str) -> bool:
    """True when extraction lost bytes here (U+FFFD)."""
    return REPLACEMENT_CHAR in text


def parse_amount(text: str) -> float | None:
    """Read an amount in 万元: ``1,391.47``, ``12,000``, ``100万元``, ``125 万元``.

    Returns None for anything that is not plainly a number, including digits split
    by spaces (``619.0 0``), which only a garbled table produces.
    """
    value = _TAG.sub("", text).strip()
    if value.endswith("万元"):
        value = value[:-2].strip()
    if not _AMOUNT.match(value):
        return None
    number = float(value.replace(",", ""))
    if not math.isfinite(number) or abs(number) > MAX_AMOUNT:
        return None  # 1e400 would be inf; no budget line is a trillion yuan
    return number


MAX_AMOUNT = 1e8  # 万元: a trillion yuan, beyond any single budget line
_AMOUNT_LIKE = re.compile(r"^[-+]?[\d,.\s]+(?:万?元)?$")


def looks_like_amount(text: str) -> bool:
    """A cell that is a number, but not one ``parse_amount`` reads (``12.00元``, ``1,2345.00``, 400 digits)."""
    return bool(_AMOUNT_LIKE.match(text.strip())) and any(ch.isdigit() for ch in text)


def is_spaced_number(text: str) -> bool:
    """Digits broken by spaces (``619.0 0``, ``0. 00``): a sign of a garbled row."""
    value = text.strip()
    return bool(re.fullmatch(r"[\d.,]+(?: [\d.,]+)+", value))


def squash(text: str) -> str:
    """Name text with every space removed, for comparisons."""
    return _MULTI_SPACE.sub("", clean_cell(text))
