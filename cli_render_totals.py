"""How the CLI shows ``goalsearch totals``: a table of the groups, a bar chart of amount by year, the projects
behind each number on request; JSON and CSV for programs.

Beside ``cli_render`` rather than in it, so the totals screen reads as one piece. Every cell is a rich ``Text``
(document text in a department's or unit's name is never read as rich markup) printed on the ``SafeConsole``
(control characters made visible), and cut by display cells (``cli_wrap``: a CJK character is two).
"""
from __future__ import annotations

import csv
import io
from typing import Callable

from rich.cells import cell_len
from rich.text import Text

from .cli_render import amount, console, csv_out, json_out, paragraph
from .cli_safe import echo
from .cli_wrap import wrap
from .indexer import KIND_LABELS, Record
from .search import Totals

EIGHTHS = " ▏▎▍▌▋▊▉█"
MIN_BAR = 10


def key_text(name: str, value) -> str:
    """A group's value as shown: a year, a name, ``?`` for unknown."""
    if value is None:
        return "?"
    if name == "kind":
        return KIND_LABELS.get(value, str(value))
    return str(value)


def totals_csv(totals: Totals) -> None:
    """One row per group: the ``by`` values, projects, 万元, unpriced, and the record ids (space separated)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*totals.by, "projects", "amount_wan", "unpriced", "ids"])
    for group in totals.groups:
        writer.writerow([("" if v is None else v) for v in group.key]
                        + [group.count, f"{group.amount:.2f}", group.unpriced, " ".join(group.ids)])
    csv_out(buffer.getvalue())


def _widths(natural: list[int], room: int) -> list[int]:
    """Widths for text columns of ``natural`` widths sharing ``room`` cells: all natural when they fit, else
    the widest cut first, none below 6 cells (or its natural width)."""
    widths = list(natural)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= 6:
            break
        widths[widest] -= 1
    return widths


def groups_table(out, totals: Totals):
    """The groups, one row each, and a total row: text columns wrapped to the width left by the numbers."""
    from rich.table import Table

    show_unpriced = totals.unpriced > 0
    numbers = [["projects", "万元"] + (["unpriced"] if show_unpriced else [])]
    for group in totals.groups:
        numbers.append([f"{group.count:,}", amount(group.amount)] + ([f"{group.unpriced:,}"] if show_unpriced else []))
    numbers.append([f"{totals.count:,}", amount(totals.amount)] + ([f"{totals.unpriced:,}"] if show_unpriced else []))
    texts = [list(totals.by)] + [[key_text(n, v) for n, v in zip(totals.by, g.key)] for g in totals.groups]
    texts.append(["total"] + [""] * (len(totals.by) - 1) if totals.by else [])
    number_widths = [max(cell_len(row[i]) for row in numbers) for i in range(len(numbers[0]))]
    natural = [max(cell_len(row[i]) for row in texts) for i in range(len(totals.by))]
    gaps = 2 * (len(natural) + len(number_widths) - 1)
    widths = _widths(natural, max(6 * len(natural), out.width - sum(number_widths) - gaps))
    table = Table(box=None, pad_edge=False, header_style="bold underline", padding=(0, 1))
    for i, name in enumerate(totals.by):
        table.add_column(Text(name), no_wrap=True, width=widths[i])
    for i, header in enumerate(numbers[0]):
        table.add_column(Text(header), justify="right", no_wrap=True, width=number_widths[i])
    body = list(zip(texts[1:], numbers[1:]))
    for number, (text_row, number_row) in enumerate(body):
        last = number == len(body) - 1
        cells = [Text("\n".join(wrap(cell, widths[i])) if cell else "") for i, cell in enumerate(text_row)]
        table.add_row(*cells, *(Text(n) for n in number_row), style="bold" if last else None,
                      end_section=number == len(body) - 2)
    return table


def by_year(totals: Totals) -> list[tuple[int | None, float, int]]:
    """(year, 万元, projects) summed over the other dimensions, oldest first; empty without a year dimension."""
    if "year" not in totals.by:
        return []
    at = totals.by.index("year")
    summed: dict[int | None, list] = {}
    for group in totals.groups:
        entry = summed.setdefault(group.key[at], [0.0, 0])
        entry[0] += group.amount
        entry[1] += group.count
    return [(year, round(v[0], 2), v[1]) for year, v in sorted(summed.items(), key=lambda i: (i[0] is None, i[0] or 0))]


def bar(value: float, most: float, width: int) -> str:
    """A horizontal bar of ``width`` cells at most, in eighths of a cell (at least a sliver for any money)."""
    if most <= 0 or value <= 0:
        return ""
    eighths = max(1, round(8 * width * value / most))
    return EIGHTHS[8] * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def year_chart(out, years: list[tuple[int | None, float, int]]) -> None:
    """``2024 ███████▌ 6,999.67``: amount by year as bars scaled to the widest, each labelled with its sum."""
    if not years:
        return
    labels = [key_text("year", y) for y, _, _ in years]
    values = [f"{amount(v)} 万元 ({n:,})" for _, v, n in years]
    label_width = max(cell_len(s) for s in labels)
    value_width = max(cell_len(s) for s in values)
    width = max(MIN_BAR, out.width - label_width - value_width - 2)
    most = max(v for _, v, _ in years)
    paragraph(out, "amount by year (万元, projects)", style="bold")
    for label, value, (_, total, _) in zip(labels, values, years):
        drawn = bar(total, most, width)
        out.print(Text.assemble(label.rjust(label_width), " ", (drawn, "cyan"), " " * (width - cell_len(drawn) + 1),
                                " " * (value_width - cell_len(value)) + value), soft_wrap=True)


def _ids_lines(out, totals: Totals, record_of: Callable[[str], Record], family_of: Callable[[str], str | None]) -> None:
    """Under each group's key, its projects: id and amount, the name beside them (wrapped under itself), best
    match first; ``+`` marks a record of the same family and year as the one above (one project, counted once)."""
    records = {doc_id: record_of(doc_id) for group in totals.groups for doc_id in group.ids}
    money = {doc_id: amount(r.amount) if r.amount is not None else "–" for doc_id, r in records.items()}
    money_width = max((cell_len(m) for m in money.values()), default=0)
    joined = False
    for group in totals.groups:
        out.print()
        title = " · ".join(key_text(n, v) for n, v in zip(totals.by, group.key)) or "all"
        paragraph(out, f"{title}: {group.count:,} project{'s' if group.count != 1 else ''}, {amount(group.amount)}\u00a0万元",
                  style="bold")
        previous = None
        for doc_id in group.ids:
            record = records[doc_id]
            unit = (family_of(doc_id) or doc_id, record.year)
            mark = "+" if unit == previous else " "
            joined |= unit == previous
            previous = unit
            lead = f" {mark}{doc_id}  {' ' * (money_width - cell_len(money[doc_id]))}{money[doc_id]}  "
            for number, line in enumerate(wrap(record.name, max(16, out.width - cell_len(lead)))):
                out.print(Text((lead if number == 0 else " " * cell_len(lead)) + line), soft_wrap=True)
    if joined:
        out.print()
        paragraph(out, "+ the same project as the line above in the same budget year (one family): counted once",
                  style="dim")


def totals_out(totals: Totals, output_format: str, problems: list[str], hint: str = "",
               record_of: Callable[[str], Record] | None = None, years: Totals | None = None,
               family_of: Callable[[str], str | None] = lambda doc_id: None) -> None:
    """``goalsearch totals``: the rule, the total, the groups, a chart of amount by year (from ``years`` when
    the groups are not by year), and the projects behind each row (``record_of``; ``family_of`` marks the records
    counted as one) or a hint naming how to see them."""
    for problem in problems:
        echo(f"note: {problem}", err=True)
    if output_format == "json":
        json_out(totals.to_dict())
        return
    if output_format == "csv":
        totals_csv(totals)
        return
    out = console()
    unpriced = f", {totals.unpriced:,} without an amount" if totals.unpriced else ""
    paragraph(out, f"{totals.count:,} project{'s' if totals.count != 1 else ''}, {amount(totals.amount)}\u00a0万元{unpriced} "
                   "(a project family once per budget year)", style="bold")
    paragraph(out, f"match {totals.match}: {totals.rule}" if totals.query.strip() else totals.rule, style="dim")
    if not totals.count:
        echo("no matching projects", err=True)
        return
    if totals.by:
        out.print()
        out.print(groups_table(out, totals))
    chart = by_year(years if years is not None else totals)
    if len(chart) > 1:  # one year's bar would only repeat the total
        out.print()
        year_chart(out, chart)
    if record_of is not None:
        _ids_lines(out, totals, record_of, family_of)
    elif hint:
        out.print()
        paragraph(out, hint, style="dim")

