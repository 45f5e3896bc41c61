"""indexer.parse.forms: the national performance-goal forms — per-project 绩效目标表 and 自评表, and the
whole-department forms — read into ``FormRecord``s.

``blocks`` finds each form and its year; ``cells`` turns its lines into cells whatever the layout;
``reader`` walks the cells by their labels (``labels``, from ``data/forms.json``) into the form's
fields, with ``money`` and ``indicators`` reading those two tables; ``values`` reads amounts and cuts
cells a converter glued together; ``lists`` reads the budget systems' list exports (one row per
indicator, many projects).
"""
from __future__ import annotations

from .blocks import Block, find_blocks
from .cells import form_cells, layout_of
from .form import FormRecord
from .lists import is_list, read_list
from .reader import read_form


def read_forms(lines: list[str], document_year: int | None = None, claimed: set[int] = frozenset()) -> list[FormRecord]:
    """Every form in a document's lines, read (forms with nothing read in them left out).

    ``claimed`` holds the (1-based) lines of budget tables found by ``layout``: a form never starts there
    (深圳's 部门整体支出绩效目标表 is one of those tables).
    """
    forms: list[FormRecord] = []
    for block in find_blocks(lines, document_year):
        if block.start + 1 in claimed:
            continue
        block_lines = block.lines(lines)
        layout = layout_of(block_lines)
        cells, layout = form_cells(block_lines, block.start + 1, layout)
        if block.offset and cells:
            cells[0].glued = cells[0].glued  # the first line starts at the title: its cells are as found
        if layout == "rows" and is_list(cells):
            forms.extend(read_list(cells, block, layout))
            continue
        form = FormRecord(kind=block.kind or "", scope=block.scope, line=block.start + 1, layout=layout,
                          year=block.year)
        read_form(cells, form, layout)
        if form.name or form.unit_name or form.indicators or form.amount is not None or form.goal:
            forms.append(form)
    return forms


__all__ = ["Block", "FormRecord", "find_blocks", "form_cells", "read_forms"]
