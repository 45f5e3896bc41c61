"""From forms to Records, and the report of what each form gave.

A project form becomes one record; a whole-department form one record named by its unit. A form
without a name (the end of a form whose beginning is not in the file) becomes no record: the report
says so in one line. A form the text cuts short becomes a record marked incomplete, its warnings
naming what is missing, never a guess at it.
"""
from __future__ import annotations

from collections import Counter

from ...records import Record, record_id
from ..categories import classify
from ..metadata import first_place
from .form import FormRecord


def form_records(forms: list[FormRecord], source: str) -> tuple[list[Record], list[dict]]:
    """Records of the forms that name a project or unit, and one report entry per form."""
    records: list[Record] = []
    entries: list[dict] = []
    seen: Counter = Counter()
    for form in forms:
        name = form.name or (form.unit_name if form.scope == "unit" else None)
        entry = _entry(form)
        entries.append(entry)
        if not name:
            count = len(form.indicators)
            entry["note"] = (f"line {form.line}: the end of a form whose beginning is not in the file "
                             f"({count} indicator{'' if count == 1 else 's'}, no project name); not indexed")
            continue
        unit = form.unit or form.unit_name or ""
        department = form.department or ""
        province, city = first_place(unit, department, form.filed_by or "")
        missing = _missing(form, name)
        key = (form.kind, unit, name)
        ordinal = seen[key]
        seen[key] += 1
        goal = form.goal or form.long_goal or ""
        amounts = dict(form.amounts)
        record = Record(
            id=record_id(form.year, department, unit, name, ordinal, form.kind),
            name=name, goal=goal, city=city, province=province, year=form.year, department=department, unit=unit,
            amount=form.amount, amounts=amounts, category=classify(name, goal),
            sections=["overall" if form.scope == "unit" else form.kind], source=source, line=form.line,
            lines=sorted(form.lines) or [form.line], indicators=form.indicators,
            warnings=form.warnings + [f"incomplete: {m}" for m in missing],
            kind=form.kind, actual=form.actual or "", executed=form.executed, execution_rate=form.rate,
            score=form.score, long_goal=form.long_goal if form.long_goal and form.long_goal != goal else "",
            complete=not missing,
        )
        entry["record"] = record.id
        records.append(record)
    return records, entries


def _missing(form: FormRecord, name: str) -> list[str]:
    """What a whole form would show and this one does not (the text is cut, or the cell was left unread)."""
    missing = []
    if form.amount is None:
        missing.append("no amount")
    if not (form.goal or form.long_goal or form.actual):
        missing.append("no goal")
    if not form.indicators:
        missing.append("no indicators")
    elif form.cut_short or not (form.indicators[-1].target or form.indicators[-1].actual):
        missing.append(f"the indicator table is cut after {form.indicators[-1].name!r}")
    if form.kind == "self_evaluation" and form.executed is None and form.scope == "project":
        missing.append("no executed amount")
    return missing


def _entry(form: FormRecord) -> dict:
    """The report's account of one form: its cells are fields, indicator cells, or skipped with a reason."""
    return {"line": form.line, "kind": form.kind or "fragment", "scope": form.scope, "layout": form.layout,
            "name": form.name or form.unit_name, "cells": form.cells, "fields": form.in_fields,
            "indicator_cells": form.in_indicators, "indicators": len(form.indicators),
            "skipped": sum(form.skipped.values()), "skips": dict(form.skipped),
            "examples": {k: v for k, v in form.skipped_examples.items()}, "record": None}
