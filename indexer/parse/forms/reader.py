"""Reading one form: walk its cells and let each label say what the cells after it are.

``项目名称`` and the other field labels take the next cell as their value; a money section or money
column label hands over to ``money``; goal labels to ``read_goals``; the indicator header to
``indicators``. A label that can play several parts (``分值`` is a money column and an indicator
column, ``年度总体目标`` a goal and the heading of goal columns) is read by where it stands. Cells no
label claims are skipped with a reason, so the form's cells reconcile.
"""
from __future__ import annotations

import re

from . import indicators, money
from .cells import Cell
from .form import Cells, FormRecord
from .labels import Label, is_prompt, labels_of, title_kind
from .values import read_amount

_PLACEHOLDER = re.compile(r"^[(（]?(?:盖章|签字|签章|公章)[)）]?$")
_REPEATED_TAIL_MIN = 8  # characters: a completion text that repeats the end of its goal
_NOTES = ("注:", "说明:", "备注:")


def read_form(cell_list: list[Cell], form: FormRecord, layout: str) -> FormRecord:
    """Read a form's cells into ``form``; returns it."""
    cells = Cells(cell_list, form)
    cells.layout = layout
    cells.form_money = money.Money()
    cells.title_at = lambda index: index > 0 and not cell_list[index].empty and _is_title(cell_list[index].text)
    for cell in cell_list:
        if not cell.empty:
            cells.form_money.set_unit(cell.text) if _names_unit(cell.text) else None
    index = 0
    while index < len(cells):
        index = _step(cells, index)
    money.settle(cells.form_money, form)
    if form.indicators and cells.at >= len(cells):
        pass
    return form


def _is_title(text: str) -> bool:
    return title_kind(text) is not None and len(text) <= 60


def _names_unit(text: str) -> bool:
    return bool(re.search(r"(?:金额)?单位[:：]\s*(?:万?元)", text))


def _step(cells: Cells, index: int) -> int:
    """Read what starts at ``index``; return the index to go on from."""
    cell = cells.cells[index]
    if cell.empty:
        return index + 1
    found = {label.role: label for label in labels_of(cell.text)}
    if not found:
        if _is_title(cell.text):
            cells.use(index)
        else:
            cells.skip(index, "text outside the form's fields")
        return index + 1
    if "field" in found:
        return _field(cells, index, found["field"])
    if "money_section" in found:
        cells.form_money.set_unit(cell.text)
        cells.use(index)
        return index + 1
    if "money_column" in found and "indicator_column" not in found or \
            "money_column" in found and not cells.form_money.columns and _money_header_follows(cells, index):
        return money.read_columns(cells, index)
    if "money_total" in found or "money_part" in found:
        kind = "total" if "money_total" in found else "part"
        label = found.get("money_total") or found["money_part"]
        return money.read_row(cells, index, kind, label.key, label.rest)
    if "goal" in found or "goal_block" in found:
        return read_goals(cells, index)
    if "indicator_column" in found or "indicator_section" in found:
        if "indicator_section" in found and not cells.role(cells.next_filled(index + 1), "indicator_column") \
                and not cells.role(cells.next_filled(index + 1), "level1", "level2"):
            cells.use(index)
            return index + 1
        after, columns, positions = indicators.read_header(cells, index)
        if not {"level1", "level2", "name"} & set(columns):  # 分值 beside the money: no indicator table
            return after
        return indicators.read_body(cells, after, columns, positions)
    if "level1" in found or "level2" in found:  # a body whose header is not in the text
        return indicators.read_body(cells, index, ["level1", "level2", "name", "target"], None)
    if "ignored" in found:
        return _ignored(cells, index, found["ignored"])
    if "end" in found and found["end"].key.startswith(_NOTES):  # 注: … the form's notes: nothing more to read
        for rest in range(index, len(cells)):
            cells.skip(rest, "the form's notes")
        return len(cells)
    cells.skip(index, "a label out of its place" if "end" not in found else "the form's closing rows")
    return index + 1


def _money_header_follows(cells: Cells, index: int) -> bool:
    """Is this ``分值``/``得分`` among money columns (a budget column within the next cells)?"""
    for offset in range(1, 8):
        label = cells.role(index + offset, "money_column")
        if label and label.key in ("budget_start", "budget", "executed", "rate"):
            return True
    return False


def _value_after(cells: Cells, index: int, label: Label) -> tuple[str | None, int]:
    """The value of the field labelled at ``index``: in its own cell after a colon, or the next cell."""
    if label.rest:
        value = label.rest.strip()
        return (None if _PLACEHOLDER.match(value) else value), index + 1
    after = cells.next_filled(index + 1)
    if after is None or cells.is_label(after) or cells.title_at(after):
        return None, index + 1
    if cells.layout == "rows" and cells.cells[after].row != cells.cells[index].row:
        return None, index + 1
    value = cells.cells[after].text
    cells.use(after)
    return (None if _PLACEHOLDER.match(value) else value), after + 1


_TRAILING_CODE = re.compile(r"(?<=\D)\d{9,}$")  # an organisation code glued after a unit's name (主管部门及代码)


def _field(cells: Cells, index: int, label: Label) -> int:
    cells.use(index)
    value, after = _value_after(cells, index, label)
    if value and label.key in ("unit", "department", "unit_name", "filed_by"):
        value = _TRAILING_CODE.sub("", value)
    form = cells.form
    if value and getattr(form, label.key) is None:
        setattr(form, label.key, value)
    return after


def _ignored(cells: Cells, index: int, label: Label) -> int:
    """A label goalsearch does not keep (phone, dates, approval): its value is skipped with it,
    except the self-evaluation's total score."""
    value, after = _value_after(cells, index, label)
    if label.key == "ignored" and "总分" in label.text and value:
        score = read_amount(value.split()[0]) if value.split() else None
        if score is not None and score <= 100:
            cells.form.score = score
    cells.skip(index, "a field goalsearch does not keep")
    for skipped in range(index + 1, after):
        cells.skip(skipped, "a field goalsearch does not keep")
    return after


def read_goals(cells: Cells, index: int) -> int:
    """Goal labels at ``index`` and the texts after them: the year's goal, the long-term one, what was achieved."""
    run: list[Label] = []
    position = index
    while position < len(cells):
        cell = cells.cells[position]
        if cell.empty:
            position += 1
            continue
        found = [label for label in labels_of(cell.text) if label.role in ("goal", "goal_block")]
        if not found:
            break
        run.append(found[0] if len(found) == 1 else next(label for label in found if label.role == "goal"))
        run[-1] = _with_roles(found)
        cells.use(position)
        position += 1
        if run[-1].rest and run[-1].role == "goal":
            break
    columns = _goal_columns(run)
    texts: list[str] = []
    glued = False
    if run and run[-1].rest:
        texts.append(run[-1].rest)
    while position < len(cells) and len(texts) < max(1, len(columns)) + 4:
        cell = cells.cells[position]
        if cell.empty:
            position += 1
            continue
        if cells.is_label(position) or cells.title_at(position):
            break
        texts.append(cell.text)
        glued = glued or cell.glued
        cells.use(position)
        position += 1
        if len(texts) >= len(columns) and not cell.glued:
            break
    _assign_goals(cells.form, columns, texts, glued)
    return position


def _with_roles(found: list[Label]) -> Label:
    """A goal label that can also be the heading of goal columns keeps both readings in its role."""
    roles = {label.role for label in found}
    goal = next((label for label in found if label.role == "goal"), found[0])
    role = "goal+block" if roles == {"goal", "goal_block"} else goal.role
    return Label(role, goal.key, goal.text, goal.rest)


def _goal_columns(run: list[Label]) -> list[str]:
    """The goal columns a run of labels names: a heading (``总体目标`` over ``年度目标``) names none."""
    columns = []
    for position, label in enumerate(run):
        later = [other for other in run[position + 1:] if other.role in ("goal", "goal+block")]
        if label.role == "goal_block" or label.role == "goal+block" and later:
            continue
        columns.append(label.key)
    return columns


def _assign_goals(form: FormRecord, columns: list[str], texts: list[str], glued: bool = False) -> None:
    """Give each goal column its text. One text under several columns is split only where that is sure
    (as many space-separated parts as columns; a completion repeating the goal's end); a goal form's
    completion column is never filled, so its single text is the year's goal."""
    texts = [t for t in texts if t.strip()]
    if not columns or not texts:
        return
    if form.kind == "goal_form" and "actual" in columns and len(columns) > 1:
        columns = [c for c in columns if c != "actual"]
    if len(texts) == 1 and len(columns) > 1:
        parts = texts[0].split()
        if len(parts) == len(columns):
            texts = parts
        elif columns[-2:] == ["annual", "actual"] and (split := _repeated_tail(texts[0])):
            texts = list(split)
            columns = columns[-2:]
        elif glued:
            form.warnings.append("goal texts run together and cannot be told apart; the goals are left empty")
            return
        else:
            columns = ["annual"] if "annual" in columns else columns[:1]
    if len(texts) > len(columns):
        if len(columns) == 1:
            texts = [" ".join(texts)]
        else:
            form.warnings.append("more goal texts than goal columns; the goals are left empty")
            return
    if len(texts) < len(columns):
        wanted = ["annual", "actual", "long"] if form.kind == "self_evaluation" else ["long", "annual", "actual"]
        kept = [c for c in columns if c in wanted]
        if len(texts) == 1:
            columns = ["annual"] if "annual" in columns else kept[:1]
        else:
            columns = sorted(kept, key=wanted.index)[: len(texts)]
            columns.sort(key=kept.index)
    for column, text in zip(columns, texts):
        text = text.strip()
        if not text or is_prompt(text):
            continue
        attribute = {"annual": "goal", "long": "long_goal", "actual": "actual"}[column]
        if getattr(form, attribute) is None:
            setattr(form, attribute, text)


def _repeated_tail(text: str) -> tuple[str, str] | None:
    """A goal and its completion run together, the completion repeating the goal's end: ``X Y Y`` → (X Y, Y)."""
    for size in range(len(text) // 2, _REPEATED_TAIL_MIN - 1, -1):
        tail = text[-size:]
        if text[-2 * size:-size] == tail:
            return text[:-size], tail
    return None
