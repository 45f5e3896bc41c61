"""Render a text sample in the other forms budget documents come in, for the tests.

The bundled samples are text whose table cells are separated by tabs. Users have the
same tables as PDF files, HTML pages, and text copied out of those: one cell per line
ending in `` |``, markdown pipe rows, or columns aligned with spaces. These functions
make each form from a sample so the tests can parse it back and compare the records.

Nothing here is imported by goalsearch itself; reportlab is a test dependency.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

HEADER_FIRST_CELLS = ("支出项目类别（资金使用单位）", "项目", "项目名称", "年度主要任务", "单位编码", "部门（单位）名称")


@dataclass
class Block:
    """Prose lines, or one table: its rows (cells) as the text has them, pages kept apart."""

    prose: list[str] = field(default_factory=list)
    pages: list[list[list[str]]] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        return bool(self.pages)


def blocks(text: str) -> list[Block]:
    """Cut a text sample into prose blocks and tables; blank lines between table rows are page breaks."""
    out: list[Block] = []
    pending_blank = False
    for line in text.splitlines():
        if "\t" in line:
            if out and out[-1].is_table:
                if pending_blank:
                    out[-1].pages.append([])
                out[-1].pages[-1].append(line.split("\t"))
            else:
                out.append(Block(pages=[[line.split("\t")]]))
            pending_blank = False
        elif not line.strip():
            pending_blank = True
            if out and not out[-1].is_table:
                out[-1].prose.append("")
        else:
            if not out or out[-1].is_table:
                out.append(Block())
            out[-1].prose.append(line)
            pending_blank = False
    return out


def _header_rows(page: list[list[str]]) -> int:
    """How many rows at the top of a page are the table's header (one, or two for the expenditure table)."""
    if not page or page[0][0].strip() not in HEADER_FIRST_CELLS and not page[0][0].startswith("支出项目类别"):
        return 0
    if len(page) > 1 and not page[1][0].strip() and not any(_is_amount(c) for c in page[1]):
        return 2
    return 1


def _is_amount(cell: str) -> bool:
    return bool(re.fullmatch(r"[\d,]+(?:\.\d+)?", cell.strip()))


def table_rows(block: Block) -> tuple[list[list[str]], int]:
    """A table's rows with the header kept once (pages after the first repeat it), and the header's height."""
    header = _header_rows(block.pages[0])
    rows = list(block.pages[0])
    head = block.pages[0][:header]
    for page in block.pages[1:]:
        rows.extend(page[header:] if header and page[:header] == head else page)
    return rows, header


def _width(rows: list[list[str]]) -> int:
    return max(len(r) for r in rows)


def _pad(rows: list[list[str]]) -> list[list[str]]:
    width = _width(rows)
    return [r + [""] * (width - len(r)) for r in rows]


# ---------------------------------------------------------------- text renderings

def cell_lines(text: str) -> str:
    """Each cell on its own line ending in `` |``, a blank line after each row (a web page copied as text)."""
    out: list[str] = []
    for block in blocks(text):
        if not block.is_table:
            out.extend(block.prose)
            continue
        for page in block.pages:
            for row in page:
                out.extend(f"{cell} |" for cell in row)
                out.append("")
    return "\n".join(out) + "\n"


def markdown(text: str) -> str:
    """Markdown pipe tables: one per page of each table, the first row as the header."""
    out: list[str] = []
    for block in blocks(text):
        if not block.is_table:
            out.extend(block.prose)
            continue
        for page in block.pages:
            rows = _pad(page)
            for number, row in enumerate(rows):
                out.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
                if number == 0:
                    out.append("|" + "|".join("---" for _ in row) + "|")
            out.append("")
    return "\n".join(out) + "\n"


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def aligned(text: str) -> str:
    """Columns padded with spaces to a common width (what ``pdftotext -layout`` makes), amounts right-aligned."""
    out: list[str] = []
    for block in blocks(text):
        if not block.is_table:
            out.extend(block.prose)
            continue
        for page in block.pages:
            rows = _pad(page)
            widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
            for row in rows:
                cells = []
                for cell, width in zip(row, widths):
                    pad = " " * (width - display_width(cell))
                    cells.append(pad + cell if _is_amount(cell) else cell + pad)
                out.append("   ".join(cells).rstrip())
            out.append("")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML

def _header_html(first: list[str], second: list[str]) -> str:
    """Two header rows as one ``<thead>``: a cell with nothing below spans both rows, a cell followed
    by empty cells whose cells below are filled spans those columns."""
    top, bottom = [], []
    index = 0
    while index < len(first):
        cell = first[index]
        if not cell:
            index += 1
            continue
        span = 1
        while index + span < len(first) and not first[index + span] and second[index + span]:
            span += 1
        if span == 1 and not second[index]:
            top.append(f'<th rowspan="2">{html.escape(cell)}</th>')
        else:
            top.append(f'<th colspan="{span}">{html.escape(cell)}</th>' if span > 1 else f"<th>{html.escape(cell)}</th>")
            bottom.extend(f"<th>{html.escape(c)}</th>" for c in second[index:index + span])
        index += span
    return f"<thead><tr>{''.join(top)}</tr><tr>{''.join(bottom)}</tr></thead>"


def to_html(text: str, title: str = "部门预算") -> str:
    """An HTML page: headings and paragraphs, each table one ``<table>`` with its header once."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"]
    for block in blocks(text):
        if not block.is_table:
            for line in block.prose:
                if not line.strip():
                    continue
                level = len(line) - len(line.lstrip("#"))
                body = html.escape(line.lstrip("#").strip().replace("**", ""))
                parts.append(f"<h{level}>{body}</h{level}>" if level else f"<p>{body}</p>")
            continue
        rows, header = table_rows(block)
        rows = _pad(rows)
        parts.append('<table border="1">')
        if header == 2:
            parts.append(_header_html(rows[0], rows[1]))
        elif header == 1:
            parts.append("<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr></thead>")
        parts.append("<tbody>")
        for row in rows[header:]:
            cells = "".join(f'<td align="right">{html.escape(c)}</td>' if _is_amount(c) else f"<td>{html.escape(c)}</td>"
                            for c in row)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------- PDF

def split_goal_row(rows: list[list[str]], header: int) -> tuple[int, list[str], list[str]] | None:
    """The project row with the longest goal (its last cell, after an amount), cut in two halves as a page
    break cuts it: ``(index, row with the goal's first half, row with only the second half)``."""
    best, goal_at = None, 0
    for index, row in enumerate(rows[header:], start=header):
        last = max((i for i, c in enumerate(row) if c.strip()), default=0)
        if not row[0].strip() or not any(_is_amount(c) for c in row[:last]) or len(row[last]) < 60:
            continue
        if best is None or len(row[last]) > len(rows[best][goal_at]):
            best, goal_at = index, last
    if best is None:
        return None
    goal = rows[best][goal_at]
    cut = len(goal) // 2
    first = rows[best][:goal_at] + [goal[:cut]] + rows[best][goal_at + 1:]
    rest = [""] * goal_at + [goal[cut:]] + [""] * (len(rows[best]) - goal_at - 1)
    return best, first, rest


def to_pdf(text: str, path: Path) -> int:
    """A PDF with a text layer: ruled tables in STSong-Light whose header repeats on every page they run
    across, long cells wrapped, amounts right-aligned. Returns the number of pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=9, leading=12, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=7, leading=9)
    right = ParagraphStyle("right", parent=cell, alignment=2)
    heading = ParagraphStyle("heading", parent=body, fontSize=11, leading=15, spaceBefore=4, spaceAfter=2)
    pagesize = landscape(A4)
    usable = pagesize[0] - 30 * mm

    story = []
    for block in blocks(text):
        if not block.is_table:
            for line in block.prose:
                if not line.strip():
                    continue
                is_heading = line.lstrip().startswith("#")
                content = html.escape(line.lstrip("#").strip().replace("**", ""))
                story.append(Paragraph(content, heading if is_heading else body))
            continue
        rows, header = table_rows(block)
        rows = _pad(rows)
        columns = len(rows[0])
        longest = [max(display_width(r[i]) for r in rows) for i in range(columns)]
        # Short columns get what they need; the rest shares what is left (the goal column wraps).
        widths = [min(max(w * 3.6 + 8, 30), 70) if w <= 16 else None for w in longest]
        free = [i for i, w in enumerate(widths) if w is None]
        left = max(usable - sum(w for w in widths if w), 60 * len(free))
        for i in free:
            widths[i] = left / len(free)
        # A word processor splits a tall row over two pages: its goal goes on below the header on the next
        # page, in a row whose other cells are empty. reportlab's splitInRow loses the line under the
        # repeated header, so the split is made here, with a page break between the two halves.
        parts = [rows]
        split = split_goal_row(rows, header)
        if split is not None:
            index, first, rest = split
            parts = [rows[:index] + [first], rows[:header] + [rest] + rows[index + 1:]]
        for number, part in enumerate(parts):
            data = [[Paragraph(html.escape(c), right if _is_amount(c) else cell) for c in row] for row in part]
            table = LongTable(data, colWidths=widths, repeatRows=header)
            table.setStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ])
            story.extend([table, PageBreak() if number < len(parts) - 1 else Spacer(1, 4)])

    def footer(canvas, doc) -> None:
        canvas.setFont("STSong-Light", 8)
        canvas.drawCentredString(pagesize[0] / 2, 8 * mm, f"— {doc.page} —")

    document = SimpleDocTemplate(str(path), pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm,
                                 topMargin=15 * mm, bottomMargin=15 * mm, title="部门预算")
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return document.page


RENDERINGS = {"cells": cell_lines, "markdown": markdown, "aligned": aligned}
