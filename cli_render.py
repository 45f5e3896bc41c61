"""How the CLI shows things: rich tables on a terminal, JSON and CSV for programs.

Kept apart from ``cli.py`` so the commands read as options → API call → one render call.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import click

from indexer import IngestReport, Record, city_label
from search import EvalReport, Hit, Stats


def console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "160"))
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def json_out(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def amount(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def hits_table(hits: list[Hit], explain: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, expand=True)
    for name, kwargs in [("#", {"justify": "right", "no_wrap": True}), ("project", {"ratio": 3, "min_width": 16}),
                         ("city", {"no_wrap": True}), ("year", {"no_wrap": True}), ("unit", {"ratio": 1, "min_width": 8}),
                         ("万元", {"justify": "right", "no_wrap": True}), ("category", {"no_wrap": True}),
                         ("goal", {"ratio": 4, "min_width": 20})]:
        table.add_column(name, **kwargs)
    if explain:
        table.add_column("bm25", justify="right", no_wrap=True)
        table.add_column("semantic", justify="right", no_wrap=True)
        table.add_column("fused", justify="right", no_wrap=True)
    for hit in hits:
        record = hit.record
        goal = Text("…" if hit.snippet and hit.snippet.truncated_left else "")
        if hit.snippet:
            last = 0
            for start, end in hit.snippet.ranges:
                goal.append(hit.snippet.text[last:start])
                goal.append(hit.snippet.text[start:end], style="bold yellow")
                last = end
            goal.append(hit.snippet.text[last:] + ("…" if hit.snippet.truncated_right else ""))
        else:
            goal.append(record.goal[:120])
        name = Text(record.name)
        for start, end in hit.highlights.get("name", []):
            name.stylize("bold yellow", start, end)
        name.append(f"\n{record.id}", style="dim")
        row = [str(hit.rank), name, city_label(record.city), str(record.year or ""), record.unit,
               amount(record.amount), record.category, goal]
        if explain:
            row += [f"{hit.bm25_rank or '-'} ({hit.bm25_score:.2f})" if hit.bm25_rank else "-",
                    f"{hit.semantic_rank or '-'} ({hit.semantic_score:.3f})" if hit.semantic_rank else "-",
                    f"{hit.score:.4f}"]
        table.add_row(*row)
    console().print(table)


def hits_csv(hits: list[Hit]) -> None:
    columns = ["rank", "score", "bm25_rank", "semantic_rank", "id", "name", "city", "year", "department", "unit",
               "amount", "category", "sections", "source", "line", "goal"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for hit in hits:
        data = hit.to_dict()
        data["sections"] = ";".join(data["sections"])
        writer.writerow([data.get(c) if data.get(c) is not None else "" for c in columns])
    click.echo(buffer.getvalue(), nl=False)


def hits(hits: list[Hit], output_format: str, explain: bool, problems: list[str]) -> None:
    for problem in problems:
        click.echo(f"note: {problem}", err=True)
    if output_format == "json":
        json_out([h.to_dict() for h in hits])
    elif output_format == "csv":
        hits_csv(hits)
    elif not hits:
        click.echo("no matching projects", err=True)
    else:
        hits_table(hits, explain)


def expansions(found: list, hits: list[Hit]) -> None:
    """With --explain: the synonyms the query was expanded with, and how many hits each alternative found."""
    for expansion in found:
        parts = []
        for alternative in expansion.alternatives:
            count = sum(alternative in h.synonyms for h in hits)
            parts.append(f"{alternative} ({count} of these hits)" if count else alternative)
        click.echo(f"synonyms: {expansion.term} → {', '.join(parts)}", err=True)


def print_report(report: IngestReport) -> None:
    from collections import Counter

    name = Path(report.source).name
    reasons = Counter(s.reason.split(":")[0].split(" (")[0] for s in report.skips if not s.merged_into)
    detail = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    status = "ok" if report.reconciled else "NOT RECONCILED"
    click.echo(f"{name}: {len(report.tables)} tables, {report.rows_read} rows read = {report.records} records"
               f" + {report.merged} merged + {report.skipped} skipped ({detail}) [{status}]", err=True)


def records_table(records: list[Record]) -> None:
    """Parsed records, one row each, goals shortened."""
    from rich.table import Table

    table = Table(expand=True)
    for name, kwargs in [("id", {"no_wrap": True}), ("project", {"ratio": 3}), ("city", {}), ("year", {}),
                         ("unit", {"ratio": 1}), ("万元", {"justify": "right"}), ("category", {}),
                         ("sections", {}), ("line", {"justify": "right"}), ("goal", {"ratio": 3})]:
        table.add_column(name, **kwargs)
    for r in records:
        table.add_row(r.id, r.name, city_label(r.city), str(r.year or ""), r.unit, amount(r.amount), r.category,
                      ",".join(r.sections), str(r.line), r.goal[:80] + ("…" if len(r.goal) > 80 else ""))
    console().print(table)


def record_table(record: Record) -> None:
    """One record in full: a field per row, indicators one per line."""
    from rich.table import Table

    table = Table(show_header=False, expand=True)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    for key, value in record.to_dict().items():
        if key == "indicators":
            value = "\n".join(f"{i['level1']}/{i['level2']}/{i['name']}: {i['target']}" for i in value)
        elif isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        table.add_row(key, "" if value is None else str(value))
    console().print(table)


def stats_tables(stats: Stats) -> None:
    """Counts by city, year, category and department, then every file and its rows."""
    from rich.table import Table

    out = console()
    out.print(f"index {stats.index_dir} ({stats.generation}): {stats.records} records, "
                  f"{stats.total_amount:,.2f} 万元; model {stats.model.get('name')} ({stats.model.get('dimension')}-d)")
    for title, counts in [("city", stats.by_city), ("year", stats.by_year), ("category", stats.by_category),
                          ("department", stats.by_department)]:
        table = Table(title=f"records by {title}")
        table.add_column(title)
        table.add_column("records", justify="right")
        for key, count in counts.items():
            table.add_row(key, str(count))
        out.print(table)
    files = Table(title="files")
    for column in ("file", "status", "rows read", "records", "merged", "skipped", "reconciled"):
        files.add_column(column)
    for f in stats.files:
        files.add_row(Path(f["source"]).name, f["error"] or f["status"], str(f["rows_read"]), str(f["records"]),
                      str(f["merged"]), str(f["skipped"]), "yes" if f["reconciled"] else "NO")
    out.print(files)
    out.print(f"rows: {stats.rows_read} read, {stats.records} records, {stats.rows_merged} merged, "
                  f"{stats.rows_skipped} skipped; size on disk: " +
                  ", ".join(f"{k} {v / 1024:,.0f} KiB" for k, v in stats.size_bytes.items()))


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


