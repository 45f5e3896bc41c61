"""How the CLI shows things: rich tables on a terminal, JSON and CSV for programs.

Kept apart from ``cli.py`` so the commands read as options → API call → one render call.
"""
from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .cli_safe import SafeConsole, echo, json_text, visible
from .cli_wrap import lines as wrapped
from .cli_wrap import fill_words, output_columns, shorten, stops, terminal_columns, wrap
from .indexer import KIND_LABELS, IngestReport, Record, city_label
from .search import CLAUSE_ENDS, EvalReport, Hit, SpreadsheetSafeWriter, Stats, clause_starts


def console(stderr: bool = False):
    """The console every table and block is printed on: document text in it is made visible (``cli_safe``)."""
    stream = sys.stderr if stderr else sys.stdout
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=False, width=output_columns(stream))


class Bars:
    """What ``progress_bars`` yields: the ``progress(stage, done, total)`` callback the indexer and model
    builders take (they never import rich), and ``note(message)`` for what the CLI says meanwhile.

    A note goes through the bars' own console, which prints it above the live bars; a line written to stderr
    directly (``click.echo``) landed inside the bar being drawn and stayed there garbled.
    """

    def __init__(self, bar) -> None:
        import time

        self.bar = bar
        self.tasks: dict[str, tuple[int, float]] = {}
        self.last = time.monotonic()
        self.clock = time.monotonic

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage not in self.tasks:
            self.tasks[stage] = (self.bar.add_task(stage, total=total, took=0.0), self.last)
        task, started = self.tasks[stage]
        self.bar.update(task, completed=done, total=total, took=now - started)
        self.last = now

    def note(self, message: str) -> None:
        """One line, made visible (``cli_safe.echo``); above the bars while they are drawn."""
        from rich.text import Text

        if self.bar.live.is_started:
            self.bar.console.print(Text(visible(str(message), one_line=True)), soft_wrap=True)
        else:
            echo(message, err=True)


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


@contextmanager
def progress_bars(transient: bool = False):
    """One rich bar per stage on stderr, with counts, rate, elapsed time and the time left (``Bars``); nothing
    is drawn when stderr is not a terminal.

    A stage starts when the one before it last reported, so a step reported only once, when done (the
    full-text index), still shows how long it took and its rate. The time left is the stage's pace so far
    applied to what remains (``eta -:--`` until its first step is done).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
    from rich.text import Text

    class RateAndTime(ProgressColumn):
        def render(self, task):
            took = task.fields.get("took", 0.0)
            rate = f"{task.completed / took:,.1f}/s " if took > 0 and task.completed else ""
            if task.total is not None and task.completed >= task.total:
                left = ""
            elif took > 0 and task.completed:
                left = f" eta {_clock(took / task.completed * (task.total - task.completed))}"
            else:
                left = " eta -:--"
            return Text(f"{rate}{_clock(took)}{left}", style="progress.data.speed")

    with Progress(TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(), RateAndTime(),
                  console=console(stderr=True), transient=transient, disable=not sys.stderr.isatty()) as bar:
        yield Bars(bar)


def say(message: str, indent: str = "") -> None:
    """A message on stderr (``cli_safe.echo``): on a terminal wrapped at its spaces to the terminal's width, its
    later lines indented two more (a quoted name can never start a line); to a file or a pipe one line, as grep
    wants it."""
    if output_columns(sys.stderr) is not None:
        echo(indent + message, err=True)
        return
    width = terminal_columns(sys.stderr)
    for line in fill_words(visible(str(message), one_line=True), width - 1, indent, indent + "  "):
        echo(line, err=True)


def json_out(data) -> None:
    click.echo(json_text(data))


def csv_out(text: str) -> None:
    """CSV made by ``csv.writer``: its CR LF line ends as LF, control characters in cells made visible."""
    click.echo(visible(text.replace("\r\n", "\n")), nl=False)


def amount(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


MARK = "bold yellow"


def _marked(text: str, ranges, style: str = MARK):
    """``text`` as rich Text with each (start, end) range styled (colour only on a terminal)."""
    from rich.text import Text

    out = Text(text)
    for start, end in ranges or ():
        out.stylize(style, start, end)
    return out


def _goal_snippet(hit: Hit, cells: int = 240):
    """The goal snippet with matched words marked, narrowed to ``cells`` terminal cells (two lines of a
    block) around its first match; ``…`` where text is left out."""
    from rich.cells import cell_len
    from rich.text import Text

    if hit.snippet:
        text, ranges = hit.snippet.text, list(hit.snippet.ranges)
        left, right = hit.snippet.truncated_left, hit.snippet.truncated_right
    else:
        text, ranges, left, right = hit.record.goal, [], False, False
    if cell_len(text) > cells:
        first = ranges[0][0] if ranges else 0
        allowed = stops(text)  # never start or end inside a number or a word (``…024-2025年``, ``…年信息化``)
        begin = max(stop for stop in allowed if stop <= max(0, first - 8))
        starts_clause = hit.snippet is None or hit.snippet.start == 0 or \
            hit.record.goal[hit.snippet.start - 1:hit.snippet.start] in CLAUSE_ENDS
        clauses = [c for c in clause_starts(text, first, starts_clause) if cell_len(text[c:first]) <= cells // 3]
        if clauses:  # the match's clause from its start, when that keeps the match on the first line
            begin = clauses[-1]
        end = begin
        while end < len(text) and cell_len(text[begin:end + 1]) <= cells - 2:
            end += 1
        if end == len(text):  # a match near the end: fill from the left, from a break on
            while begin > 0 and cell_len(text[begin - 1:end]) <= cells - 2:
                begin -= 1
            begin = min([stop for stop in allowed if begin <= stop <= first] or [begin])
        end = max([stop for stop in allowed if begin < stop <= end] or [end])
        left, right = left or begin > 0, right or end < len(text)
        ranges = [(max(s, begin) - begin, min(e, end) - begin) for s, e in ranges if e > begin and s < end]
        text = text[begin:end]
    out = Text("…" if left else "")
    out.append_text(_marked(text, ranges))
    if right:
        out.append("…")
    return out


def explain_line(hit: Hit) -> str:
    """One line of why a hit ranks where it does, in the order the ranking decided it: first whether its name
    holds the short query whole (those rank before all others), then, in hybrid mode, the fused score as the sum
    of what each side added, with that side's rank and score:
    ``name holds the query · fused 0.8367 = bm25 0.437 (#2, 167.60) + semantic 0.400 (#1, 0.948)``.
    A side that did not hand the fusion this record (or not among the candidates it counts) adds ``–``.
    In one-side modes, that side's rank and score: ``bm25 #1 (184.14)``."""
    first = "name holds the query · " if hit.name_first else ""
    bm25 = f"#{hit.bm25_rank}, {hit.bm25_score:.2f}" if hit.bm25_rank else ""
    semantic = f"#{hit.semantic_rank}, {hit.semantic_score:.3f}" if hit.semantic_rank else ""
    if hit.bm25_part is None and hit.semantic_part is None:  # one side alone ranked, or none (a listing)
        if not bm25 and not semantic:
            return first + "bm25 – · semantic –"
        side = f"bm25 {bm25.replace(', ', ' (')})" if bm25 else f"semantic {semantic.replace(', ', ' (')})"
        return first + side
    decimals = 4 if hit.score < 0.1 else 3  # rrf's parts are near 1/60

    def part(name: str, value: float | None, where: str) -> str:
        added = "–" if value is None else f"{value:.{decimals}f}"
        shown = where + (", not among the candidates fused" if where and value is None else "")
        return f"{name} {added}" + (f" ({shown})" if shown else "")

    return (f"{first}fused {hit.score:.{decimals + 1}f} = {part('bm25', hit.bm25_part, bm25)}"
            f" + {part('semantic', hit.semantic_part, semantic)}")


def meta_line(record: Record) -> str:
    """``广州 · 2026 · 1,234.56 万元 · 运维``: the facts a reader scans first; a form's kind after them, and
    a self-evaluation's spending (``执行 90.20 万元 93.47%``)."""
    parts = [city_label(record.city) or "", str(record.year or "")]
    if record.amount is not None:
        parts.append(f"{amount(record.amount)} 万元")
    if record.executed is not None:
        rate = f" {record.execution_rate:g}%" if record.execution_rate is not None else ""
        parts.append(f"执行 {amount(record.executed)} 万元{rate}")
    parts.append(record.category)
    if record.kind != "budget":
        parts.append(KIND_LABELS.get(record.kind, record.kind) + ("" if record.complete else " (不完整)"))
    return " · ".join(p for p in parts if p)


def _indented(out, first: str, body, indent: int, justify: str = "right") -> None:
    """Print ``body`` wrapped to the console width less ``indent``, ``first`` in the margin of its first line.

    Wrapping is ours rather than a table's so that lines carry no trailing padding and nothing is cut,
    by the Chinese line breaking rules (``cli_wrap``).
    """
    from rich.text import Text

    width = max(20, out.width - indent)
    label = first.rjust(indent - 1) if justify == "right" else first.ljust(indent - 1)
    for number, line in enumerate(wrapped(body, width)):
        out.print(Text.assemble((label + " " if number == 0 else " " * indent, "bold"), line), soft_wrap=True)


def hit_block(hit: Hit, explain: bool, width: int = 120):
    """One result as rich Text: the whole name (wrapped, never cut), the facts, the unit, the whole id,
    a goal snippet with the matched words marked (at most two lines of ``width`` cells), and with
    ``explain`` the ranks of both sides."""

    record = hit.record
    body = _marked(record.name, hit.highlights.get("name"))
    body.stylize("bold", 0, len(record.name))
    body.append("\n" + meta_line(record), style="cyan")
    body.append("\n" + (record.unit or record.department))
    body.append("\n" + record.id, style="green")
    snippet = _goal_snippet(hit, 2 * (width - 1) - 4)  # a wide character never splits: a line may lose a cell
    if snippet.plain:
        body.append("\n")
        body.append_text(snippet)
    if explain:
        body.append("\n" + explain_line(hit), style="dim")
    return body


def hits_blocks(hits: list[Hit], explain: bool, out=None) -> None:
    """Every hit as a block (``hit_block``) with its rank in the margin, a blank line between blocks."""
    out = out or console()
    indent = len(str(max(h.rank for h in hits))) + 1
    for number, hit in enumerate(hits):
        if number:
            out.print()
        _indented(out, str(hit.rank), hit_block(hit, explain, max(20, out.width - indent)), indent)


def hits_csv(hits: list[Hit]) -> None:
    columns = ["rank", "score", "bm25_rank", "semantic_rank", "id", "name", "city", "year", "department", "unit",
               "amount", "category", "sections", "source", "line", "goal", "kind", "executed", "execution_rate",
               "actual", "evaluation_score", "complete", "indicators"]
    buffer = io.StringIO()
    writer = SpreadsheetSafeWriter(buffer)
    writer.writerow(columns)
    for hit in hits:
        data = hit.to_dict()
        data["sections"] = ";".join(data["sections"])
        data["indicators"] = "; ".join(indicator_line(i) for i in data["indicators"])
        writer.writerow([data.get(c) if data.get(c) is not None else "" for c in columns])
    csv_out(buffer.getvalue())


def hits(hits: list[Hit], output_format: str, explain: bool, problems: list[str]) -> None:
    for problem in problems:
        echo(f"note: {problem}", err=True)
    if output_format == "json":
        json_out([h.to_dict() for h in hits])
    elif output_format == "csv":
        hits_csv(hits)
    elif not hits:
        echo("no matching projects", err=True)
    else:
        hits_blocks(hits, explain)


def expansions(found: list, hits: list[Hit]) -> None:
    """With --explain: the synonyms the query was expanded with, and how many hits each alternative found."""
    for expansion in found:
        parts = []
        for alternative in expansion.alternatives:
            count = sum(alternative in h.synonyms for h in hits)
            parts.append(f"{alternative} ({count} of these hits)" if count else alternative)
        echo(f"synonyms: {expansion.term} → {', '.join(parts)}", err=True)


def print_report(report: IngestReport) -> None:
    """The ingest report of one file on stderr: tables (rows read = records + merged + skipped), then forms
    (cells read = in fields + in indicators + skipped), and a line for each form that gave no record."""
    from collections import Counter

    name = visible(Path(report.source).name, one_line=True)  # a newline in a file name cannot start a line
    reasons = Counter(s.reason.split(":")[0].split(" (")[0] for s in report.skips if not s.merged_into)
    detail = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    status = "ok" if report.reconciled else "NOT RECONCILED"
    if report.pages:
        status += f", on each of {len(report.pages)} pages with table rows"
    parts = []
    if report.tables or not report.forms:
        parts.append(f"{len(report.tables)} tables, {report.rows_read} rows read = {report.records - report.form_records} "
                     f"records + {report.merged} merged + {report.skipped} skipped ({detail})")
    if report.forms:
        parts.append(forms_summary(report.forms))
    say(f"{name}{_input_note(report)}: {'; '.join(parts)} [{status}]")
    for form in report.forms:
        if form.get("note"):
            say(f"note: {form['note']}", indent="  ")


_KIND_WORDS = {"goal_form": "绩效目标表", "self_evaluation": "自评表", "fragment": "fragment"}


def forms_summary(forms: list[dict]) -> str:
    """``2 forms (自评表), 2 records, 140 cells read = 100 in fields + 30 in 12 indicators + 10 skipped (…)``."""
    from collections import Counter

    kinds = Counter(_KIND_WORDS.get(f["kind"], f["kind"]) for f in forms)
    skips: Counter = Counter()
    for form in forms:
        skips.update(form.get("skips", {}))
    detail = ", ".join(f"{n} {reason}" for reason, n in skips.most_common())
    records = sum(1 for f in forms if f.get("record"))
    cells = sum(f["cells"] for f in forms)
    return (f"{len(forms)} form{'s' if len(forms) > 1 else ''} ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
            f"{records} record{'s' if records != 1 else ''}, {cells} cells read = {sum(f['fields'] for f in forms)} in fields"
            f" + {sum(f['indicator_cells'] for f in forms)} in {sum(f['indicators'] for f in forms)} indicators"
            f" + {sum(f['skipped'] for f in forms)} skipped" + (f" ({detail})" if detail else ""))


_RENDERINGS = {"cells": "one cell per line", "markdown": "markdown rows", "aligned": "aligned columns"}


def _input_note(report: IngestReport) -> str:
    """What kind of input a report read, when it is not tab-separated text: `` (PDF, 13 pages)``."""
    if report.kind == "pdf":
        textless = report.textless_pages
        scanned = (f"; no text on page{'s' if len(textless) > 1 else ''} {', '.join(map(str, textless))}"
                   " (blank, or scanned: run OCR)") if textless else ""
        return f" (PDF, {report.page_count} pages{scanned})"
    if report.kind == "html":
        return " (HTML)"
    if report.forms and not report.tables:
        layouts = sorted({_FORM_LAYOUTS.get(f.get("layout"), "") for f in report.forms} - {""})
        return f" ({', '.join(layouts)})" if layouts else ""
    rendering = _RENDERINGS.get(report.rendering)
    return f" ({rendering})" if rendering else ""


_FORM_LAYOUTS = {"cells": "one cell per line", "rows": "rows of cells", "text": "text without cell borders"}


def record_block(record: Record, width: int):
    """One parsed record as rich Text: the whole name, the facts, the unit, the id with the tables it came
    from and its line, and the start of its goal (two lines of ``width`` cells)."""
    from rich.text import Text

    body = Text(record.name, style="bold")
    body.append("\n" + meta_line(record), style="cyan")
    if record.unit or record.department:
        body.append("\n" + (record.unit or record.department))
    body.append("\n" + record.id, style="green")
    body.append(f" · {', '.join(record.sections)} · line {record.line}", style="dim")
    if record.goal:
        body.append("\n" + shorten(record.goal, width, 2))
    return body


def records_blocks(records: list[Record], out=None) -> None:
    """Parsed records, a numbered block each (``record_block``), as search shows its hits.

    A table of ten columns could not fit a name, a unit and a goal even at 160 columns: it cut all three.
    """
    out = out or console()
    indent = len(str(len(records))) + 1
    for number, record in enumerate(records, start=1):
        if number > 1:
            out.print()
        _indented(out, str(number), record_block(record, max(20, out.width - indent)), indent)


def indicator_line(indicator: dict) -> str:
    """``产出指标 / 数量指标 / 系统可用率: ≥99.9% → 99.95% (20/20)``: where it sits, what was promised,
    what was achieved and its score, each part only where the form gives it."""
    where = " / ".join(part for part in (indicator.get("level1"), indicator.get("level2")) if part)
    line = f"{where} / {indicator['name']}" if where else indicator["name"]
    if indicator.get("target"):
        line += f": {indicator['target']}"
    if indicator.get("actual"):
        line += f" → {indicator['actual']}"
    if indicator.get("score") is not None:
        weight = indicator.get("weight")
        line += f" ({indicator['score']:g}/{weight:g})" if weight is not None else f" ({indicator['score']:g})"
    return line


def _field_text(key: str, value) -> str:
    if key == "indicators":
        return "\n".join(indicator_line(i) for i in value)
    if key in ("amount", "executed"):
        return f"{amount(value)} 万元" if value is not None else ""
    if key == "execution_rate":
        return f"{value:g}%" if value is not None else ""
    if key == "kind":
        return f"{value} ({KIND_LABELS.get(value, value)})"
    if key in ("lines", "sections"):  # short items (the lines it was read from, its tables): one line, as numbers read
        return ", ".join(str(v) for v in value or [])
    if isinstance(value, dict):
        return "\n".join(f"{k}: {amount(v) if isinstance(v, float) else v}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def record_table(record: Record, out=None) -> None:
    """One record in full: a field per line, every value whole and wrapped, lists one item per line;
    a self-evaluation's goal beside what was achieved, its indicators as target → achieved (score)."""
    from rich.text import Text

    out = out or console()
    data = record.to_dict()
    side_by_side = bool(record.actual)
    indent = max(len(key) for key in data) + 2
    for key, value in data.items():
        if key == "city":
            value = city_label(value)
        if side_by_side and key in ("goal", "actual"):
            if key == "goal":
                _promised_and_delivered(out, record, indent)
            continue
        _indented(out, key, Text(_field_text(key, value)), indent, justify="left")


def _promised_and_delivered(out, record: Record, indent: int) -> None:
    """The goal (what was promised) beside the account of what was achieved, each in its own wrapped
    column under its field name; nothing cut."""
    from rich.cells import cell_len
    from rich.text import Text

    column = max(10, (out.width - indent - 2) // 2)
    left = ["goal"] + wrap(record.goal, column)
    right = ["actual"] + wrap(record.actual, column)
    for number in range(max(len(left), len(right))):
        first = left[number] if number < len(left) else ""
        second = right[number] if number < len(right) else ""
        pad = " " * (column - cell_len(first) + 2) if second else ""
        out.print(Text.assemble(" " * indent, (first, "bold" if number == 0 else ""), pad,
                                (second, "bold" if number == 0 else "")), soft_wrap=True)


def fitted_table(out, title: str, headers: list[str], rows: list[list[str]], numbers: set[int] = frozenset()):
    """``title`` on a line, then a table that fits ``out``'s width: every column as wide as its longest cell, except the first (a name),
    which takes what is left and is wrapped there by ``cli_wrap`` (never cut with ``…``, never split inside
    a number); the columns in ``numbers`` right-aligned."""
    from rich.cells import cell_len
    from rich.table import Table

    widths = [max([cell_len(h)] + [cell_len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    room = max(12, out.width - sum(widths[1:]) - 2 * (len(headers) - 1))
    first = min(widths[0], room)
    paragraph(out, title, style="bold")
    table = Table(box=None, pad_edge=False, header_style="bold underline")
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in numbers else "left", no_wrap=True,
                         width=first if i == 0 else None)
    for row in rows:
        table.add_row("\n".join(wrap(row[0], first)), *row[1:])
    return table


def paragraph(out, text: str, style: str = "") -> None:
    """A line of our own prose wrapped at its spaces (``732,726.41 万元`` stays whole), not by rich."""
    from rich.text import Text

    for line in fill_words(text, out.width):
        out.print(Text(line, style=style), soft_wrap=True)


def folder_label(path) -> str:
    """A folder as the user would type it: ``./index`` for a bare relative name (``index index: ok`` read as a
    stutter), any other path as given."""
    text = str(path)
    return text if os.path.isabs(text) or text.startswith(".") or os.sep in text else f"./{text}"


def stats_tables(stats: Stats) -> None:
    """Counts by city, year, category and department, then every file and its rows (failures explained after)."""
    out = console()
    paragraph(out, f"index {folder_label(stats.index_dir)} ({stats.generation}): {stats.records:,} records, "
                   f"{stats.total_amount:,.2f}\u00a0万元; model {stats.model.get('name')} ({stats.model.get('dimension')}-d)")
    for title, counts in [("city", stats.by_city), ("year", stats.by_year), ("category", stats.by_category),
                          ("department", stats.by_department)]:
        out.print()
        out.print(fitted_table(out, f"records by {title}", [title, "records"],
                               [[str(key), f"{count:,}"] for key, count in counts.items()], numbers={1}))
    rows = [[Path(f["source"]).name, f["status"], f"{f['rows_read']:,}", f"{f['records']:,}", f"{f['merged']:,}",
             f"{f['skipped']:,}", "yes" if f["reconciled"] else "NO"] for f in stats.files]
    out.print()
    out.print(fitted_table(out, "files (rows read = records + merged + skipped)", ["file", "status", "rows", "records", "merged", "skipped", "reconciled"],
                           rows, numbers={2, 3, 4, 5}))
    for f in stats.files:
        if f["status"] == "kept":
            paragraph(out, f"kept: {Path(f['source']).name}: its records are from before; the file now fails to parse "
                           f"({f['error']})")
        elif f["error"]:
            paragraph(out, f"failed: {Path(f['source']).name}: {f['error']}")
    out.print()
    paragraph(out, f"rows: {stats.rows_read:,} read, {stats.records:,} records, {stats.rows_merged:,} merged, "
                   f"{stats.rows_skipped:,} skipped; size on disk: " +
                   ", ".join(f"{k} {v / 1024:,.0f}\u00a0KiB" for k, v in stats.size_bytes.items()))


def eval_table(report: EvalReport, path: Path) -> None:
    """Metrics per mode and query kind, overall in bold."""
    from rich.table import Table

    table = Table(title=f"{report.queries} queries from {path}")
    for column in ("mode", "kind", "nDCG@10", "Recall@10", "MRR@10"):
        table.add_column(column, justify="left" if column in ("mode", "kind") else "right")
    for mode, kinds in report.by_mode.items():
        for kind in sorted(kinds, key=lambda k: (k == "overall", k)):
            m = kinds[kind]
            table.add_row(mode, kind, f"{m['ndcg@10']:.3f}", f"{m['recall@10']:.3f}", f"{m['mrr@10']:.3f}",
                          style="bold" if kind == "overall" else None)
    console().print(table)




def parse_accuracy_table(result, folder: Path, misses: bool) -> None:
    """Per field: right on complete records, and filled where the document leaves it empty; then indicators."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(f"{result.files} files, {result.expected} expected records ({result.complete} complete), "
              f"{result.matched} found, in {folder}")
    table = Table()
    for column in ("field", "right on complete", "share", "filled where empty"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for key, score in result.fields.items():
        share = f"{score.share:.1%}" if score.share is not None else "–"
        table.add_row(key, f"{score.right}/{score.total}", share, str(score.filled_where_null))
    share = f"{result.indicator_share:.1%}" if result.indicator_share is not None else "–"
    table.add_row("indicators", f"{result.indicators_right}/{result.indicators_total}", share, "", style="bold")
    table.add_row("indicators on fragments", f"{result.indicators_found_on_fragments}/{result.indicators_on_fragments}",
                  "", "")
    out.print(table)
    for name, error in result.failed_files.items():
        out.print(Text(f"refused: {error}"))
    if misses:
        for miss in result.misses:
            out.print(Text(f"miss: {miss['file']} · {miss['record']} · {miss['field']}: want {miss['want']!r}, "
                           f"got {miss['got']!r}"))
