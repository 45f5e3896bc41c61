"""Where the forms of a document are: each form's title, its lines, its kind and year.

A form starts at its title (``项目支出绩效自评表``, ``绩效目标申报表`` …, ``forms.json``); a title inside a
long line of flattened text counts where the form's own words follow it (``(2022年度)``, ``项目名称``),
so the notice that announces a form (``现将…绩效目标申报表公示如下``) is not one. A form runs to the next
title. Text before the first title that holds an indicator table is the end of a form whose beginning
the file does not have (a page of a longer document).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .labels import form_labels, labels_of, normal, title_kind

_YEAR_OF_FORM = re.compile(r"[(（]\s*((?:19|20)\d{2})\s*年\s*度?\s*[)）]")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_FOLLOWS = ("年度)", "年度）", "项目名称", "部门(单位)名称", "部门（单位）名称", "主管部门", "填报单位", "项目支出名称")


@dataclass
class Block:
    """The lines of one form (the first may start inside a line), its kind, scope, year and title line."""

    start: int  # index into the document's lines
    end: int
    offset: int  # where in lines[start] the form starts
    kind: str | None
    scope: str
    year: int | None
    title: str = ""

    def lines(self, document: list[str]) -> list[str]:
        chunk = document[self.start:self.end]
        return [chunk[0][self.offset:]] + chunk[1:] if chunk else []


def find_blocks(lines: list[str], document_year: int | None) -> list[Block]:
    """The forms of a document, in order (a leading fragment without a title first, when there is one)."""
    starts: list[tuple[int, int, str, str, str]] = []
    for index, line in enumerate(lines):
        found = None if line.lstrip().startswith("-") else _title_in(line)  # "- …表": a table of contents
        if found and not _fields_follow(lines, index, found[0]):
            found = None
        if found:
            offset, kind, scope, title = found
            if starts and starts[-1][0] == index - 1 and _only_title(lines[index - 1]) and offset == 0 \
                    and not _has_fields_between(lines, starts[-1][0], index):
                starts.pop()  # a page heading repeats the form's title just above it
            starts.append((index, offset, kind, scope, title))
    blocks: list[Block] = []
    first = starts[0][0] if starts else len(lines)
    if _holds_indicators(lines[:first]):
        blocks.append(Block(0, first, 0, None, "project", None))
    for position, (index, offset, kind, scope, title) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(lines)
        if end == index:  # two titles on one line: the second wins
            continue
        year = _year(lines, index, offset) or document_year
        blocks.append(Block(index, max(end, index + 1), offset, kind, scope, year, title))
    return blocks


def _title_in(line: str) -> tuple[int, str, str, str] | None:
    """(offset, kind, scope, title) when ``line`` is, or holds, a form's title."""
    if len(normal(line)) <= 60:
        found = title_kind(line)
        return (0, *found, line.strip()) if found else None
    titles = form_labels()["titles"]
    words = sorted({w for kind in ("self_evaluation", "goal_form") for w in titles[kind]}, key=len, reverse=True)
    for match in re.finditer("|".join(re.escape(w) for w in words), line):
        after = normal(line[match.end():match.end() + 30])
        if not any(after.startswith(normal(word)) or normal(word) in after[:16] for word in _FOLLOWS):
            continue
        start = _title_start(line, match.start())
        found = title_kind(line[start:match.end()])
        if found:
            return start, *found, line[start:match.end()]
    return None


def _title_start(line: str, at: int) -> int:
    """Where the title that ends in the keyword at ``at`` begins: after the last sentence end before it."""
    stop = max(line.rfind(ch, 0, at) for ch in "。:：;；，,)）")
    start = max(stop + 1, at - 20)
    return start


def _fields_follow(lines: list[str], index: int, offset: int) -> bool:
    """Does a form's field (项目名称, 部门(单位)名称, 主管部门 …) follow the title closely?"""
    text = lines[index][offset:offset + 400] + "\n" + "\n".join(lines[index + 1:index + 30])
    head = normal(text[:1200])
    fields = form_labels()["fields"]
    return any(normal(word) in head for key in ("name", "unit_name", "department") for word in fields[key])


def _only_title(line: str) -> bool:
    return title_kind(line) is not None


def _has_fields_between(lines: list[str], first: int, last: int) -> bool:
    return any(labels_of(cell) for line in lines[first + 1:last] for cell in re.split(r"[\t|]", line) if cell.strip())


def _holds_indicators(lines: list[str]) -> bool:
    """Does text before any title hold an indicator table (a header or level labels with values)?"""
    hits = 0
    for line in lines:
        for cell in re.split(r"[\t|]", line):
            roles = {label.role for label in labels_of(cell)}
            if roles & {"indicator_column", "level1", "level2"}:
                hits += 1
    return hits >= 3


def _year(lines: list[str], index: int, offset: int) -> int | None:
    """The form's year: ``(2023年度)`` by its title, else a year in the title, else just above it."""
    near = lines[index][offset:offset + 80] + " " + " ".join(lines[index + 1:index + 3])
    match = _YEAR_OF_FORM.search(near)
    if match:
        return int(match.group(1))
    title = lines[index][max(0, offset - 40):offset + 60]
    match = _YEAR.search(title)
    if match:
        return int(match.group(1))
    for line in reversed(lines[max(0, index - 5):index]):
        match = _YEAR.search(line)
        if match:
            return int(match.group(1))
    return None
