"""How the CLI shows project families and near-duplicate goals (``family``, ``families``, ``duplicates``,
``search --group family``): rich text on a terminal, JSON and CSV for programs.

Beside ``cli_render`` rather than in it, so the family views read as one piece.
"""
from __future__ import annotations

import io


from .cli_render import _indented, amount, console, csv_out, json_out
from .cli_safe import echo
from .cli_wrap import lines as wrapped
from .indexer import KIND_LABELS, city_label
from .search import Duplicates, FamilyHit, FamilyView, SpreadsheetSafeWriter


def _years_text(view: FamilyView) -> str:
    years = [y.year for y in view.years if y.year is not None]
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _amounts_text(view: FamilyView) -> str:
    """``1,339.99 → 384.95 万元``: the total of each budget year, oldest first."""
    return " → ".join(amount(y.amount) for y in view.years) + " 万元"


def _change_text(change: float | None, pct: float | None) -> str:
    if change is None:
        return ""
    sign = "+" if change >= 0 else ""
    share = f" ({sign}{pct:.1f}%)" if pct is not None else ""
    return f"{sign}{amount(change)}{share}"


def family_summary(view: FamilyView, title: str | None = None):
    """The lines that name a family: ``title`` (default its label), where and when, the amounts, the unit, the id."""
    from rich.text import Text

    newest = view.newest
    body = Text(title or view.label, style="bold")
    facts = [city_label(newest.city) or "", _years_text(view), f"{len(view.members)} project{'s' if len(view.members) > 1 else ''}", _amounts_text(view)]
    body.append("\n" + " · ".join(f for f in facts if f), style="cyan")
    body.append("\n" + (newest.unit or newest.department))
    body.append("\n" + view.id, style="green")
    return body


def member_facts(record) -> str:
    """``96.50 万元 → 执行 90.20 万元 · 绩效自评表 · 3e4db76c…``: a member's money, what was spent, its document."""
    facts = [f"{amount(record.amount)} 万元" + (f" → 执行 {amount(record.executed)} 万元" if record.executed is not None else "")]
    if record.kind != "budget":
        facts.append(KIND_LABELS.get(record.kind, record.kind))
    return " · ".join(facts + [record.id])


def family_out(view: FamilyView, output_format: str) -> None:
    """One family: members by year with amounts and the change, then the goals that changed, side by side."""
    if output_format == "json":
        json_out(view.to_dict())
        return
    if output_format == "csv":
        family_csv([view])
        return
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    out = console()
    for line in wrapped(family_summary(view), out.width):
        out.print(line, soft_wrap=True)
    out.print()
    by_year = {y.year: y for y in view.years}
    rows, shown = [], set()
    for record in view.members:
        year = by_year[record.year]
        first = record.year not in shown
        shown.add(record.year)
        project = Text(record.name)
        project.append("\n" + member_facts(record), style="dim")
        if record.actual:
            project.append(f"\n实际完成: {record.actual}")
        rows.append((str(record.year or "?") if first else "", amount(year.amount) if first else "",
                     _change_text(year.change, year.change_pct) if first else "", project))
    heads = ("year", "万元", "change")
    widths = [max([cell_len(head)] + [cell_len(row[i]) for row in rows]) for i, head in enumerate(heads)]
    room = max(20, out.width - sum(widths) - 2 * len(heads))  # the project column: what the numbers leave
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for head, width in zip(heads, widths):
        table.add_column(head, justify="left" if head == "year" else "right", no_wrap=True, width=width)
    table.add_column("project", no_wrap=True, width=room)
    for *numbers, project in rows:
        table.add_row(*numbers, Text("\n").join(wrapped(project, room)))
    out.print(table)
    _goals(out, view)


def _goals(out, view: FamilyView) -> None:
    """Each goal that differs from the member before it, next to that one; the differing text marked
    (bold yellow on a terminal; without colour, ``[`` ``]`` around it), both wrapped by ``cli_wrap``."""
    import difflib

    from rich.cells import cell_len
    from rich.text import Text

    changed = [(view.members[i - 1], view.members[i]) for i, c in enumerate(view.goal_changed) if c]
    if not changed:
        if len(view.members) > 1:
            out.print("\ngoal: the same in every year")
        return
    plain = out.no_color or not out.is_terminal
    column = max(10, (out.width - 2) // 2)
    for before, after in changed:
        matcher = difflib.SequenceMatcher(None, before.goal, after.goal, autojunk=False)
        left, right = Text(), Text()
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            for side, text in ((left, before.goal[a0:a1]), (right, after.goal[b0:b1])):
                if tag == "equal" or not text:
                    side.append(text)
                else:
                    side.append(f"[{text}]" if plain else text, style="bold yellow")
        left_lines = [Text(f"goal {before.year} ({before.id[:8]})", style="bold")] + wrapped(left, column)
        right_lines = [Text(f"goal {after.year} ({after.id[:8]})", style="bold")] + wrapped(right, column)
        out.print()
        for number in range(max(len(left_lines), len(right_lines))):
            first = left_lines[number] if number < len(left_lines) else Text()
            second = right_lines[number] if number < len(right_lines) else Text()
            pad = " " * (column - cell_len(first.plain) + 2) if second.plain else ""
            out.print(Text.assemble(first, pad, second), soft_wrap=True)


def family_csv(views: list[FamilyView]) -> None:
    """One row per member: family, year, amount that year and its change, then the member."""
    columns = ["family_id", "label", "year", "year_amount", "change", "change_pct", "id", "name", "city",
               "department", "unit", "amount", "goal_changed"]
    buffer = io.StringIO()
    writer = SpreadsheetSafeWriter(buffer)
    writer.writerow(columns)
    for view in views:
        by_year = {y.year: y for y in view.years}
        for record, changed in zip(view.members, view.goal_changed):
            year = by_year[record.year]
            writer.writerow([view.id, view.label, record.year, year.amount, _blank(year.change), _blank(year.change_pct),
                             record.id, record.name, record.city, record.department, record.unit,
                             _blank(record.amount), changed])
    csv_out(buffer.getvalue())


def _blank(value):
    return "" if value is None else value


def families_out(views: list[FamilyView], output_format: str) -> None:
    """The family list: one block per family (``family_summary``), numbered."""
    if output_format == "json":
        json_out([v.to_dict() for v in views])
        return
    if output_format == "csv":
        family_csv(views)
        return
    if not views:
        echo("no families of that size match", err=True)
        return
    out = console()
    indent = len(str(len(views))) + 1
    for number, view in enumerate(views, start=1):
        if number > 1:
            out.print()
        body = family_summary(view)
        if view.growth is not None:
            body.append(f"\ngrowth {'+' if view.growth >= 0 else ''}{view.growth:.1f}% · total {amount(view.total)} 万元",
                        style="dim")
        _indented(out, str(number), body, indent)


def family_hits_out(rows: list[FamilyHit], output_format: str, problems: list[str]) -> None:
    """``search --group family``: one block per family, its newest member's name, the years and amounts."""
    from .cli_render import _goal_snippet

    for problem in problems:
        echo(f"note: {problem}", err=True)
    if output_format == "json":
        json_out([r.to_dict() for r in rows])
        return
    if output_format == "csv":
        family_csv([r.family for r in rows])
        return
    if not rows:
        echo("no matching projects", err=True)
        return
    out = console()
    indent = len(str(len(rows))) + 1
    for number, row in enumerate(rows):
        if number:
            out.print()
        head = family_summary(row.family, title=row.family.newest.name)
        if row.matched > 1:
            head.append(f"\n{row.matched} of its projects matched", style="dim")
        snippet = _goal_snippet(row.hit, 2 * (max(20, out.width - indent) - 1) - 4)
        if snippet.plain:
            head.append("\n")
            head.append_text(snippet)
        _indented(out, str(row.rank), head, indent)


CLAUSE_ENDS = "，。；、：！？,;:!?"


def clause_passage(shared: str, goal: str, most: int = 120) -> str:
    """The shared passage from the start of a clause to the end of one: the longest common run of two goals
    starts and ends wherever they part (``…有关要求，加``); a part clause at either end is left out and marked
    ``…``, and a passage longer than ``most`` characters ends at the last clause that fits."""
    start = goal.find(shared)
    text, left = shared, False
    if start > 0 and goal[start - 1] not in CLAUSE_ENDS:  # begins mid-clause: from the next clause on
        cut = next((i + 1 for i, ch in enumerate(text) if ch in CLAUSE_ENDS), 0)
        text, left = (text[cut:], True) if 0 < cut < len(text) else (text, True)
    ends_goal = start >= 0 and start + len(shared) == len(goal)
    right = False
    if len(text) > most or not (ends_goal or text[-1:] in CLAUSE_ENDS):
        cut = max((i + 1 for i, ch in enumerate(text[:most]) if ch in CLAUSE_ENDS), default=0)
        if cut:
            text = text[:cut].rstrip(CLAUSE_ENDS) or text[:cut]
        elif len(text) > most:
            text = text[:most - 1]
        right = True
    return ("…" if left else "") + text + ("…" if right else "")


def duplicates_out(found: Duplicates, output_format: str) -> None:
    """Pairs of near-duplicate goals: both projects, their amounts, and the passage they share."""
    if output_format == "json":
        json_out(found.to_dict())
        return
    if output_format == "csv":
        columns = ["similarity", "a_id", "a_name", "a_unit", "a_city", "a_year", "a_amount",
                   "b_id", "b_name", "b_unit", "b_city", "b_year", "b_amount", "shared"]
        buffer = io.StringIO()
        writer = SpreadsheetSafeWriter(buffer)
        writer.writerow(columns)
        for p in found.pairs:
            writer.writerow([p.similarity, p.a.id, p.a.name, p.a.unit, p.a.city, p.a.year, _blank(p.a.amount),
                             p.b.id, p.b.name, p.b.unit, p.b.city, p.b.year, _blank(p.b.amount), p.shared])
        csv_out(buffer.getvalue())
        return
    if not found.pairs:
        echo(f"no near-duplicate goals at threshold {found.threshold} ({found.compared} goals compared)", err=True)
        return
    from rich.text import Text

    out = console()
    indent = len(str(len(found.pairs))) + 1
    for number, pair in enumerate(found.pairs, start=1):
        if number > 1:
            out.print()
        body = Text(f"{pair.similarity:.0%} of the shorter goal shared", style="cyan")
        for record in (pair.a, pair.b):
            body.append("\n")
            body.append(record.name, style="bold")
            facts = [city_label(record.city) or "", str(record.year or ""),
                     f"{amount(record.amount)} 万元" if record.amount is not None else "", record.unit, record.id]
            body.append("\n" + " · ".join(f for f in facts if f), style="dim")
        shared = clause_passage(pair.shared, pair.a.goal)
        body.append("\nshared：", style="bold")  # no blank after the colon: the passage starts on this line
        body.append(shared, style="yellow")
        _indented(out, str(number), body, indent)
    big = [c for c in found.clusters if len(c.records) > 2]
    if big:
        out.print()
        for cluster in big:
            units = sorted({r.unit for r in cluster.records})
            body = Text(f"{len(cluster.records)} projects in {len(units)} units share a goal", style="cyan")
            body.append("\n" + "、".join(units))
            _indented(out, "*", body, indent)
