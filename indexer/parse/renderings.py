"""Other text renderings of the same tables, turned into tab rows.

The table parsers read rows whose cells are separated by tabs. Text copied out of web
pages and PDFs shows the same rows in other ways; each is recognised here and rewritten,
line numbers kept (a row that spanned several lines stands on its first, the others left
blank), so reports still point into the file:

- one cell per line, each ending in `` |``, a blank line after each row (a Guangdong
  budget web page copied as text);
- markdown pipe rows, ``| 项目 | 预算数 | 绩效目标 |``, with their ``|---|`` delimiter row;
- columns aligned with spaces (``pdftotext -layout``): cells are cut where every line of a
  block of rows has at least two blank columns, counting a CJK character as two columns.

Lines that already hold a tab are never touched; columns aligned with spaces are looked
for only in a document with no tab rows at all, where prose with a double space cannot be
mistaken for one.
"""
from __future__ import annotations

import re
import unicodedata

_CELL_LINE = re.compile(r"^(?!\s*\|\s*\S)(.*?)\s?\|\s*$")  # `` |`` alone is an empty cell; ``| a |`` is markdown
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_GAP = re.compile(r"\S {2,}\S|^ {2,}\S")
_GUTTER = 2  # blank columns that separate two cells


def _cell_lines(lines: list[str]) -> list[str]:
    """Rows given as one cell per line ending in `` |``: a run of such lines is one row."""
    out = list(lines)
    index = 0
    while index < len(out):
        if "\t" in out[index] or not _CELL_LINE.match(out[index]):
            index += 1
            continue
        end = index
        while end < len(out) and "\t" not in out[end] and _CELL_LINE.match(out[end]):
            end += 1
        if end - index >= 2:
            cells = [_CELL_LINE.match(out[i]).group(1).strip() for i in range(index, end)]
            out[index] = "\t".join(cells)
            for i in range(index + 1, end):
                out[i] = ""
        index = end
    return out


def _split_pipes(line: str) -> list[str]:
    inner = line.strip()[1:-1]
    return [cell.strip().replace("\\|", "|") for cell in _UNESCAPED_PIPE.split(inner)]


def _pipe_rows(lines: list[str]) -> list[str]:
    """Markdown pipe rows; the delimiter row under a table's first row is dropped (it is markup, not a row)."""
    out = list(lines)
    for index, line in enumerate(lines):
        if "\t" in line or not _PIPE_ROW.match(line) or line.count("|") < 3:
            continue
        if _DELIMITER.match(line) and index > 0 and _PIPE_ROW.match(lines[index - 1]) and (
                index < 2 or not _PIPE_ROW.match(lines[index - 2])):
            out[index] = ""
            continue
        out[index] = "\t".join(_split_pipes(line))
    return out


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _columns(line: str) -> list[tuple[int, str]]:
    """Each character with the display column it starts at."""
    placed, column = [], 0
    for ch in line.expandtabs(8):
        placed.append((column, ch))
        column += _width(ch)
    return placed


def _aligned_block(block: list[str]) -> list[str]:
    """Cut a block of space-aligned rows into cells at the gutters all its lines share."""
    placed = [_columns(line) for line in block]
    width = max((c + _width(ch) for line in placed for c, ch in line), default=0)
    used = [False] * width
    for line in placed:
        for column, ch in line:
            if not ch.isspace():
                for c in range(column, column + _width(ch)):
                    used[c] = True
    spans: list[tuple[int, int]] = []  # [start, end) of each cell column
    start = None
    blank = 0
    for column, filled in enumerate(used + [False] * _GUTTER):
        if filled:
            if start is None:
                start = column
            blank = 0
        elif start is not None:
            blank += 1
            if blank >= _GUTTER:
                spans.append((start, column - blank + 1))
                start, blank = None, 0
    if len(spans) < 2:
        return block
    rows = []
    for line in placed:
        cells = _cut(line, spans)
        rows.append("\t".join(cells).rstrip("\t") if sum(1 for c in cells if c) else "")
    return rows


def _cut(line: list[tuple[int, str]], spans: list[tuple[int, int]]) -> list[str]:
    """The line's characters in each [start, end) column span, in one pass (spans are sorted, apart)."""
    parts: list[list[str]] = [[] for _ in spans]
    span = 0
    for column, ch in line:
        while span < len(spans) and column >= spans[span][1]:
            span += 1
        if span == len(spans):
            break
        if column >= spans[span][0]:
            parts[span].append(ch)
    return ["".join(part).strip() for part in parts]


def _aligned(lines: list[str]) -> list[str]:
    """Blocks of consecutive lines that each show a gap of two or more spaces, cut into cells."""
    out = list(lines)
    index = 0
    while index < len(out):
        if not _GAP.search(out[index]):
            index += 1
            continue
        end = index
        while end < len(out) and _GAP.search(out[end]):
            end += 1
        out[index:end] = _aligned_block(out[index:end])
        index = end
    return out


def tab_rows(lines: list[str]) -> tuple[list[str], str]:
    """The lines with every recognised table rendering rewritten as tab rows, and the rendering found.

    >>> tab_rows(["| 项目 | 预算数 |", "|---|---|", "| 运维 | 12.5 |"])
    (['项目\\t预算数', '', '运维\\t12.5'], 'markdown')
    """
    has_tabs = any("\t" in line for line in lines)
    rendering = "tabs" if has_tabs else "plain"
    out = _cell_lines(lines)
    if out != lines:
        rendering = "cells"
    piped = _pipe_rows(out)
    if piped != out:
        rendering = "markdown"
    out = piped
    if not any("\t" in line for line in out):
        aligned = _aligned(out)
        if aligned != out:
            rendering = "aligned"
        out = aligned
    return out, rendering
