"""A form's text as cells, whatever layout it came out in.

The same table reaches us in many renderings, and the reader of a form wants one thing from all of
them: its cells in reading order, each with its line, and the row it is in where that is known.

- ``rows``: rows whose cells are known — tab rows (PDF and HTML readers), pipe rows
  (``a | b | c |``), the ``|`` of merged cells kept as empty cells where they stand between others;
- ``cells``: one cell per line ending in `` |`` (a lone ``|`` is an empty cell, a run of pipes the residue
  of merged cells, no cell at all), or one cell per line with blank lines between (a line of spaces is
  an empty cell); rows are not known;
- ``text``: rows whose cells are separated by spaces, or not at all (text flattened by a converter):
  the cells are found by the labels the form is known to hold (``forms.json``), and the text between
  two labels stays one cell, marked ``glued``: it may hold several values, which only the reader of
  that part of the form can tell apart (by the columns it expects).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .labels import all_label_texts, labels_of, normal

_PIPES = re.compile(r"^\|+$")
_SHORT = 3  # labels this short are found inside undelimited text only at a cell boundary
_NOTES = ("注", "说明", "备注")  # followed by a colon they start the form's notes wherever they stand


@dataclass
class Cell:
    """One cell of a form: its text, the line it is on (1-based), its row, and how sure its edges are."""

    text: str
    line: int
    row: int
    empty: bool = False
    glued: bool = False  # text between two labels of undelimited text: may hold several cells


def layout_of(lines: list[str]) -> str:
    """``rows``, ``cells`` or ``text``: how the cells of these lines are delimited."""
    filled = [line for line in lines if line.strip()]
    if not filled:
        return "text"
    if sum("\t" in line for line in filled) >= 0.3 * len(filled):
        return "rows"
    piped = [line.strip() for line in filled if line.rstrip().endswith("|")]
    if len(piped) >= 0.5 * len(filled):
        inner = [line for line in piped if "|" in line.strip("|").strip() and not _PIPES.match(line)]
        return "rows" if len(inner) >= 0.3 * len(piped) else "cells"
    blank = sum(1 for line in lines if not line.strip())
    if blank >= 0.4 * len(filled) and len(filled) >= 8 and sum(len(line) for line in filled) / len(filled) < 60:
        return "cells"
    return "text"


def form_cells(lines: list[str], first: int, layout: str | None = None) -> tuple[list[Cell], str]:
    """The cells of a form's lines (``first`` is the 1-based number of ``lines[0]``), and the layout found."""
    layout = layout or layout_of(lines)
    if layout == "rows":
        cells = _row_cells(lines, first)
    elif layout == "cells":
        cells = _one_per_line(lines, first)
    else:
        cells = _text_cells(lines, first)
    return _rejoin_labels(cells, layout), layout


_PIECE = 4  # characters: the longest piece of a label a converter broke off onto its own line


def _rejoin_labels(cells: list[Cell], layout: str) -> list[Cell]:
    """Labels a converter broke over several cells (``经济效益`` / ``指标``, ``年度`` / ``总体`` / ``目标``) joined again.

    Short cells are joined while together they make a longer label than the first alone; in rows, only
    within a row.
    """
    out: list[Cell] = []
    index = 0
    while index < len(cells):
        cell = cells[index]
        best_end = None
        if not cell.empty and len(normal(cell.text)) <= 8:
            joined = normal(cell.text)
            end = index + 1
            while end < len(cells) and not cells[end].empty and len(normal(cells[end].text)) <= _PIECE \
                    and (layout != "rows" or cells[end].row == cell.row) and not labels_of(cells[end].text):
                joined += normal(cells[end].text)
                found = labels_of(joined)
                if found and not found[0].rest:
                    best_end = end + 1
                end += 1
                if len(joined) > 16:
                    break
        if best_end:
            text = "".join(c.text.strip() for c in cells[index:best_end])
            out.append(Cell(text, cell.line, cell.row))
            index = best_end
        else:
            out.append(cell)
            index += 1
    return out


def _row_cells(lines: list[str], first: int) -> list[Cell]:
    cells: list[Cell] = []
    for offset, line in enumerate(lines):
        number = first + offset
        if "\t" in line:
            parts = line.split("\t")
        elif "|" in line:
            inner = line.strip()
            inner = inner[1:] if inner.startswith("|") else inner
            inner = re.sub(r"[\s|]+$", "", inner)
            parts = inner.split("|") if inner else []
        else:
            parts = [line]
        parts = [p.strip() for p in parts]
        while parts and not parts[-1]:
            parts.pop()
        for part in parts:
            cells.append(Cell(part, number, number, empty=not part))
    return cells


def _one_per_line(lines: list[str], first: int) -> list[Cell]:
    cells: list[Cell] = []
    for offset, line in enumerate(lines):
        number = first + offset
        text = line.strip()
        if not text:
            if line:  # a line of spaces is an empty cell; an empty line only separates cells
                cells.append(Cell("", number, number, empty=True))
            continue
        if _PIPES.match(text):
            if len(text) == 1:
                cells.append(Cell("", number, number, empty=True))
            continue
        text = re.sub(r"\s*\|+\s*$", "", text)
        cells.extend(_split_label_prefix(text, number))
    return cells


def _split_label_prefix(text: str, number: int) -> list[Cell]:
    """A cell that starts with a label and a colon holds a value too (``年度资金总额:50万``)."""
    found = labels_of(text)
    if found and found[0].rest and not found[0].rest.startswith("("):
        label_text = text[: len(text) - len(found[0].rest)] if text.endswith(found[0].rest) else text
        return [Cell(label_text.strip(), number, number), Cell(found[0].rest.strip(), number, number)]
    return [Cell(text, number, number)]


def _text_cells(lines: list[str], first: int) -> list[Cell]:
    cells: list[Cell] = []
    for offset, line in enumerate(lines):
        if line.strip():
            cells.extend(segment(line, first + offset))
    return cells


def segment(line: str, number: int) -> list[Cell]:
    """Cut a line of undelimited or space-separated text at the form labels it holds.

    Labels of four characters or more are found anywhere; shorter ones (``分值``, ``得分``) only where a
    cell could end: beside a space, a colon, the line's ends or another label. The text between two
    labels is one ``glued`` cell.
    """
    squashed, where = [], []
    for index, ch in enumerate(line):
        if not ch.isspace():
            squashed.append(ch)
            where.append(index)
    key = normal("".join(squashed))
    if len(key) != len(squashed):  # normal() only maps characters one to one or drops spaces
        return [Cell(line.strip(), number, number, glued=True)]
    spans = _label_spans(key, line, where)
    cells: list[Cell] = []
    at = 0
    for start, end in spans:
        before = line[where[at]:where[start]].strip(_EDGE) if at < len(where) and start > at else ""
        if before:
            cells.append(Cell(before, number, number, glued=True))
        cells.append(Cell(line[where[start]:where[end - 1] + 1].strip(), number, number))
        at = end
    rest = line[where[at]:].strip(_EDGE) if at < len(where) else ""
    if rest:
        cells.append(Cell(rest, number, number, glued=True))
    return cells


_EDGE = " \t\u3000…"  # what is left between two cells of flattened text: spaces, an ellipsis of omitted rows


def _label_spans(key: str, line: str, where: list[int]) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans of labels in ``key`` (the line without spaces), left to right."""
    texts = all_label_texts()
    token_starts = {i for i in range(len(key)) if i == 0 or where[i] - where[i - 1] > 1 or key[i - 1] in ":："}
    spaced = line.strip().count(" ") >= 3  # cells separated by spaces: a label starts where a cell does
    long_spans: list[tuple[int, int]] = []
    index = 0
    while index < len(key):
        match = None
        if not spaced or index in token_starts:
            match = next((t for t in texts if len(t) > _SHORT and key.startswith(t, index)), None)
        if match:
            end = _with_suffix(key, index + len(match), match)
            long_spans.append((index, end))
            index = end
        else:
            index += 1
    starts = {s for s, _ in long_spans}
    ends = {e for _, e in long_spans}

    def boundary_before(i: int) -> bool:
        return i == 0 or i in ends or key[i - 1] in ":：…。;；" or line[where[i] - 1].isspace()

    def boundary_after(i: int) -> bool:
        return i >= len(key) or i in starts or key[i] in ":(" or key[i].isdigit() or (where[i] - where[i - 1] > 1)

    short_texts = [t for t in texts if len(t) <= _SHORT] + [n for n in _NOTES if n not in texts]
    spans = list(long_spans)
    covered = set()
    for s, e in long_spans:
        covered.update(range(s, e))
    index = 0
    while index < len(key):
        if index in covered:
            index += 1
            continue
        match = next((t for t in short_texts if key.startswith(t, index)
                      and not covered.intersection(range(index, index + len(t)))
                      and (t in _NOTES and key.startswith(":", index + len(t))
                           or boundary_before(index) and boundary_after(index + len(t)))), None)
        if match:
            end = index + len(match) + (1 if match in _NOTES and key.startswith(":", index + len(match)) else 0)
            spans.append((index, end))
            covered.update(range(index, end))
            index = end
        else:
            index += 1
    return sorted(spans)


_SUFFIX = re.compile(r"^(?::|\((?:万元|元|\d+分|[A-Z/]+|[^()]{0,8}分)\)|\(\d+-\d+\)分|\d+分)")
_LEVEL_NOTE = re.compile(r"^\([^()]{1,8}\)")  # 数量指标(必填硬性指标): a note on the level, not the indicator


def _with_suffix(key: str, end: int, label: str = "") -> int:
    """A label's cell goes on over its colon and a short unit or score in brackets (``(万元)``, ``(70分)``),
    and a level label over a short note in brackets."""
    levels = {"level1", "level2"} & {found.role for found in labels_of(label)} if label else set()
    while True:
        match = _SUFFIX.match(key[end:]) or (_LEVEL_NOTE.match(key[end:]) if levels else None)
        if not match or not match.group(0):
            return end
        end += len(match.group(0))
