"""The money block of a form: budget, executed amount, execution rate.

A goal form states its money as label → value (``年度资金总额 | 854万``); a self-evaluation as a small
table: a row of column labels (``年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分``) and rows
labelled ``年度资金总额``, ``其中:财政拨款`` … holding one value per column. The record's amount is the
year's budget as first set (``年初预算数``; a form without that column: ``全年预算数``), its executed
amount ``全年执行数``. A total row left at zero beside a funding row with money is no total: the funding
row is read instead (the unit did not fill the total in).
"""
from __future__ import annotations

import re

from .form import Cells
from .labels import form_labels, normal
from .values import read_amount, read_rate, split_glued

COLUMN_NAMES = {"budget_start": "年初预算数", "budget": "全年预算数", "executed": "全年执行数"}


class Money:
    """What a form's money block said, gathered while reading it."""

    def __init__(self) -> None:
        self.unit = "万元"
        self.columns: list[str] = []
        self.totals: list[tuple[str, dict[str, str]]] = []  # (row label, column → text) or label → {"value": text}
        self.parts: list[tuple[str, dict[str, str]]] = []

    def set_unit(self, text: str) -> None:
        key = normal(text)
        if any(normal(m) in key for m in form_labels()["money"]["yuan_markers"]):
            self.unit = "元"
        elif "万元" in key:
            self.unit = "万元"


def read_columns(cells: Cells, at: int) -> int:
    """Read a run of money column labels from ``at``; return where it ends."""
    columns = []
    index = at
    while index < len(cells):
        cell = cells.cells[index]
        if cell.empty:
            index += 1
            continue
        column = cells.role(index, "money_column")
        if column:
            columns.append(column.key)
            cells.use(index)
        elif cells.role(index, "money_section"):
            cells.form_money.set_unit(cell.text)
            cells.use(index)
        else:
            break
        index += 1
    cells.form_money.columns = columns
    return index


def read_row(cells: Cells, at: int, kind: str, key: str, rest: str) -> int:
    """Read the values of a money row labelled at ``at``; return the index after them."""
    money = cells.form_money
    cells.use(at)
    target = money.totals if kind == "total" else money.parts
    if not money.columns:
        if rest:
            target.append((key, {"value": rest}))
            return at + 1
        index = cells.next_filled(at + 1)
        if index is not None and not cells.is_label(index) and cells.cells[index].row in (cells.cells[at].row, None) \
                or index is not None and not cells.is_label(index) and cells.layout != "rows":
            target.append((key, {"value": cells.cells[index].text}))
            cells.use(index)
            return index + 1
        return at + 1
    values: list[str] = [rest] if rest else []
    index = at + 1
    row = cells.cells[at].row
    while index < len(cells) and len(values) < len(money.columns) + 1:
        cell = cells.cells[index]
        if cells.layout == "rows" and cell.row != row:
            break
        if cells.is_label(index) and not cell.empty:
            break
        if len(values) == len(money.columns) and (cells.layout != "rows" or cell.glued):
            break
        if cell.glued:
            values.extend(_glued_values(cell.text, money.columns[len(values):]))
        else:
            values.append(cell.text)
        cells.use(index)
        index += 1
    if len(values) > len(money.columns):
        cells.form.warnings.append(f"line {cells.cells[at].line}: the money row has more values than the columns "
                                   "goalsearch knows; its amounts are left empty")
        return index
    target.append((key, dict(zip(money.columns, values))))
    return index


def _glued_values(text: str, columns: list[str]) -> list[str]:
    """Values of glued money text: space-separated, or cut by the columns' shapes and the rate rule."""
    tokens = text.split()
    if len(tokens) > 1:
        return tokens
    wanted = [c for c in columns if c != "reason"]
    for count in range(len(wanted), 0, -1):
        parsed = split_glued(text, wanted[:count], named=False)
        if parsed and len(parsed) == 1:
            found = parsed[0][1]
            return [found.get(c, "") for c in columns[:count]]
    lead = _LEADING_AMOUNT.match(normal(text))
    if lead:  # 38.75万元 followed by a sentence: the first column, the rest cannot be told apart
        return [lead.group(0)]
    return [text] if len(columns) == 1 else []


_LEADING_AMOUNT = re.compile(r"^\d+(?:\.\d+)?万?元")


def settle(money: Money, form) -> None:
    """Put the amounts read into the form: amount, executed, rate, and every budget column in ``amounts``."""
    unit = money.unit
    preference = [normal(v).rstrip(":") for v in form_labels()["money"]["rows"]["total"]]
    totals = sorted(money.totals, key=lambda t: preference.index(t[0]) if t[0] in preference else len(preference))
    if money.columns:
        row = next((values for _, values in money.totals), None)
        filled = [values for _, values in money.parts if any(read_amount(values.get(c, ""), unit)
                                                               for c in ("budget_start", "budget", "executed"))]
        if row is not None and filled and not any(read_amount(row.get(c, ""), unit)
                                                  for c in ("budget_start", "budget", "executed")):
            form.warnings.append("the total row of the money table is zero; its funding row is read instead")
            row = filled[0]
        if row is None:
            return
        for column, name in COLUMN_NAMES.items():
            value = read_amount(row.get(column, ""), unit)
            if value is not None:
                form.amounts[name] = value
        start, budget = form.amounts.get("年初预算数"), form.amounts.get("全年预算数")
        form.amount = start if start is not None else budget
        form.executed = form.amounts.get("全年执行数")
        form.rate = read_rate(row.get("rate", ""))
        return
    for key, values in totals:
        value = read_amount(values.get("value", ""), unit)
        if value is not None:
            form.amount = value
            form.amounts[key] = value
            return
