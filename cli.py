"""goalsearch command line: a thin click layer over ``search.GoalSearch`` and ``indexer``.

Each command reads its options, calls the API, and renders the result as a table
(rich), JSON or CSV. Errors from the API map, in one place, to a one-line message
and exit status 1 (failures) or 2 (usage).
"""
from __future__ import annotations

import json
import os
import sys
from functools import wraps
from pathlib import Path

import click

import cli_render as render
from indexer import (
    DocumentError,
    GoalsearchError,
    UsageError,
    categories,
    city_label,
    document_files,
    index_paths,
    parse,
    remove_paths,
)
from indexer.embedding import (
    build_default_model,
    build_fast_model,
    default_model_dir,
)
from search import AmbiguousRecord, GoalSearch, check_index, parse_years

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SECTIONS = ["expenditure", "key_project", "overall"]


# -- errors -----------------------------------------------------------------------
def handle_errors(command):
    """Turn every GoalsearchError (and Ctrl-C) into one line and an exit status."""
    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AmbiguousRecord as exc:
            lines = [str(exc)] + [f"  {r.id}  {r.name}  ({city_label(r.city)} {r.year}, {r.unit})" for r in exc.candidates[:20]]
            raise click.UsageError("\n".join(lines)) from None
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        except GoalsearchError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted; the index is unchanged", err=True)
            sys.exit(130)
        except OSError as exc:
            raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".strip(": ")) from None
    return wrapper


# -- shared options ---------------------------------------------------------------------
def index_dir_option(command):
    return click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("index"),
                        envvar="GOALSEARCH_INDEX", show_default=True,
                        help="Index location (env GOALSEARCH_INDEX).")(command)


def filter_options(command):
    options = [
        click.option("--city", multiple=True, help="Only this city (repeatable): 广州, 深圳 …"),
        click.option("--year", type=int, help="Only this budget year."),
        click.option("--years", help="Only years in a range: 2023-2026."),
        click.option("--department", help="Department name contains this."),
        click.option("--unit", help="Funding unit name contains this."),
        click.option("--category", multiple=True, type=click.Choice(categories()), help="Only this category (repeatable)."),
        click.option("--min-amount", type=float, help="Amount at least this (万元)."),
        click.option("--max-amount", type=float, help="Amount at most this (万元)."),
        click.option("--section", multiple=True, type=click.Choice(SECTIONS), help="Only records from this table."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def format_option(choices=("table", "json", "csv")):
    return click.option("--format", "output_format", type=click.Choice(choices), default="table", show_default=True,
                        help="Output format.")


def _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section) -> dict:
    return {"city": list(city), "year": year, "years": parse_years(years) if years else None,
            "department": department, "unit": unit, "category": list(category),
            "min_amount": min_amount, "max_amount": max_amount, "section": list(section)}


def _open(index_dir: Path, model: str | None = None) -> GoalSearch:
    """Open the index; only the default location (no --index-dir, no GOALSEARCH_INDEX) is built
    from the sample corpus when new. A location the user named is never written by a search:
    a typo there must fail, not fill a folder (and clean up what was in it)."""
    source = click.get_current_context().get_parameter_source("index_dir")
    if source is not click.core.ParameterSource.DEFAULT:
        return GoalSearch.open(index_dir, model=model)
    if not (default_model_dir() / "goalsearch_model.json").exists():
        click.echo(f"Converting the bundled embedding model for sentence-transformers into {default_model_dir()} (once).", err=True)
    return GoalSearch.open_or_build_sample(index_dir, model=model, notify=lambda m: click.echo(m, err=True))


# -- commands ---------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="goalsearch")
def cli():
    """Search Chinese department budgets (部门预算): projects, amounts and 绩效目标.

    \b
    Quick start (the first search builds an index of the bundled samples):
        goalsearch search 政务云运维
        goalsearch search 社保卡 --city 深圳
        goalsearch parse indexer/samples --format json
    """


@cli.command(name="parse")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option(("table", "json", "jsonl"))
@handle_errors
def parse_command(paths, output_format):
    """Parse budget documents and print their project records.

    Directories are walked. The ingest report of each file (tables, rows read,
    records, rows skipped and why) goes to stderr; the exit status is 1 when any
    file could not be parsed.

    \b
    Example:
        goalsearch parse indexer/samples/004_efb0ffd27daf31b7.txt --format jsonl
    """
    failed = 0
    all_records = []
    for path in document_files(list(paths)):
        try:
            if not path.exists():
                raise DocumentError(f"{path}: no such file or directory")
            records, report = parse(path)
        except DocumentError as exc:
            click.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        all_records.extend(records)
        render.print_report(report)
    if output_format == "json":
        render.json_out([r.to_dict() for r in all_records])
    elif output_format == "jsonl":
        for record in all_records:
            click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
    elif all_records:
        render.records_table(all_records)
    if failed:
        sys.exit(1)


@cli.command(name="index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@click.option("--model", help="Embedding model: multilingual-e5-small (default), fast (static, ~100× faster to "
                              "index, less accurate) or a sentence-transformers folder.")
@click.option("--rebuild", is_flag=True, help="Start from an empty index instead of updating the current one.")
@click.option("--remove", is_flag=True, help="Take the records of PATHS out of the index.")
@click.option("--user-dict", type=click.Path(exists=True, dir_okay=False), help="Extra jieba dictionary (word [freq] [tag] per line).")
@click.option("--keep-going", is_flag=True, help="Skip paths, files and folders that cannot be read (and say so) "
                                                "instead of publishing nothing.")
@handle_errors
def index_command(paths, index_dir, model, rebuild, remove, user_dict, keep_going):
    """Index budget documents (files or folders); re-indexing a file replaces its records.

    \b
    Examples:
        goalsearch index indexer/samples
        goalsearch index new_budget.txt            # add or replace one file
        goalsearch index --remove new_budget.txt   # take it out again
        goalsearch index --rebuild indexer/samples # from scratch
    """
    if not paths:
        raise UsageError("give the files or folders to index, e.g. goalsearch index indexer/samples")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=render.console(stderr=True),
                  transient=True, disable=not sys.stderr.isatty()) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        if remove:
            result = remove_paths(list(paths), index_dir, progress=progress)
        else:
            result = index_paths(list(paths), index_dir, model=model, rebuild=rebuild, user_dict=user_dict,
                                 progress=progress, keep_going=keep_going)
    failed = [r for r in result.reports if r.error]
    for report in result.reports:
        if report.error:
            click.echo(f"error: {report.error}", err=True)
        else:
            render.print_report(report)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"index {index_dir}: {result.records} records from {result.files} files "
               f"({result.added} added, {result.removed} replaced or removed, {result.embedded} texts embedded)", err=True)
    if failed:
        sys.exit(1)


@cli.command(name="search")
@click.argument("query", nargs=-1)
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "semantic"]), default="hybrid", show_default=True,
              help="Rank by words (bm25), by meaning (semantic) or both fused (hybrid).")
@filter_options
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many results.")
@format_option()
@click.option("--explain", is_flag=True, help="Show each hit's BM25 and semantic ranks and the fused score.")
@index_dir_option
@handle_errors
def search_command(query, mode, city, year, years, department, unit, category, min_amount, max_amount, section,
                   limit, output_format, explain, index_dir):
    """Search projects by words and meaning; an empty QUERY lists the filtered projects by amount.

    QUERY may be several words, quoted or not (quote syntax with brackets or double quotes).

    \b
    Examples:
        goalsearch search 政务云运维
        goalsearch search 运维 NOT 信息化
        goalsearch search 社保卡 --city 深圳 --format json
        goalsearch search '"信息化运维"' --mode bm25 --years 2024-2026
        goalsearch search --category 运维 --min-amount 1000
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section)
    with _open(index_dir) as index:
        hits = index.search(" ".join(query), mode=mode, limit=limit, **filters)
        render.hits(hits, output_format, explain, index.problems)


@cli.command(name="similar")
@click.argument("id_or_name", required=False)
@click.option("--text", help="Find projects like this description instead of a stored project.")
@click.option("--other-cities", is_flag=True, help="Only projects of other cities.")
@click.option("--other-years", is_flag=True, help="Only projects of other years.")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "semantic"]), default="hybrid", show_default=True)
@filter_options
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@format_option()
@click.option("--explain", is_flag=True, help="Show ranks and scores of both sides.")
@index_dir_option
@handle_errors
def similar_command(id_or_name, text, other_cities, other_years, mode, city, year, years, department, unit, category,
                    min_amount, max_amount, section, limit, output_format, explain, index_dir):
    """Projects most like a given one (id or exact name), or like --text; never the project itself.

    \b
    Examples:
        goalsearch similar 6f7c0e1d2a3b4c5d
        goalsearch similar 市人社数据服务中心社保卡制发管理服务经费 --other-years
        goalsearch similar --text "为12345热线提供话务场地和坐席服务" -n 5
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section)
    with _open(index_dir) as index:
        hits = index.similar(id_or_name, text=text, limit=limit, other_cities=other_cities, other_years=other_years,
                             mode=mode, **filters)
        render.hits(hits, output_format, explain, index.problems)


@cli.command(name="show")
@click.argument("record_id")
@format_option(("table", "json"))
@index_dir_option
@handle_errors
def show_command(record_id, output_format, index_dir):
    """Show one record in full, indicators included.

    \b
    Example:
        goalsearch show 6f7c0e1d2a3b4c5d --format json
    """
    with _open(index_dir) as index:
        record = index.get(record_id)
    if output_format == "json":
        render.json_out(record.to_dict())
        return
    render.record_table(record)


@cli.command(name="stats")
@format_option(("table", "json"))
@index_dir_option
@handle_errors
def stats_command(output_format, index_dir):
    """Records by city, year, department and category; files and rows accounted for; index sizes; the model."""
    with _open(index_dir) as index:
        stats = index.stats()
    if output_format == "json":
        render.json_out(stats.to_dict())
        return
    render.stats_tables(stats)


@cli.command(name="check")
@index_dir_option
@click.option("--model", help="The model that should have built the vectors (default: GOALSEARCH_MODEL if set, else the index's own).")
@handle_errors
def check_command(index_dir, model):
    """Verify the index: checksums, the same ids on every side, and the embedding model."""
    problems = check_index(index_dir, model=model or os.environ.get("GOALSEARCH_MODEL"))
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        sys.exit(1)
    click.echo(f"index {index_dir}: ok")


DEFAULT_QUERIES = Path(__file__).parent / "benchmarks" / "eval_queries.json"


@cli.command(name="eval")
@click.argument("queries_file", required=False, type=click.Path(path_type=Path))
@index_dir_option
@format_option(("table", "json"))
@click.option("--rrf-k", type=click.IntRange(0, 10000), default=60, show_default=True, help="RRF constant for hybrid.")
@handle_errors
def eval_command(queries_file, index_dir, output_format, rrf_k):
    """Score bm25, semantic and hybrid on a labelled query set: nDCG@10, Recall@10, MRR@10.

    QUERIES_FILE is JSON: {"queries": [{"id", "kind", "query", "relevant": {project: 2 or 1}}]};
    a project is a record id, an exact name, or "name|unit". Default: benchmarks/eval_queries.json.

    \b
    Example:
        goalsearch eval benchmarks/eval_queries.json --format json
    """
    from search import evaluate, load_queries

    path = queries_file or DEFAULT_QUERIES
    queries = load_queries(path)
    with _open(index_dir) as index:
        report = evaluate(index, queries, rrf_k=rrf_k)
    for problem in report.problems:
        click.echo(f"note: {problem}", err=True)
    if output_format == "json":
        render.json_out({mode: kinds for mode, kinds in report.by_mode.items()})
        return
    render.eval_table(report, path)


@cli.group(name="model")
def model_group():
    """The embedding models: the bundled multilingual-e5-small, and the fast model distilled from it."""


@model_group.command(name="build")
@click.option("--force", is_flag=True, help="Convert (or distil) again even if the cached folder is current.")
@click.option("--fast", is_flag=True, help="Distil the fast static model (for `index --model fast`) instead.")
@handle_errors
def model_build_command(force, fast):
    """Prepare a model folder (done on first use anyway): the default model, or the fast one with --fast.

    \b
    Examples:
        goalsearch model build
        goalsearch model build --fast    # static word vectors distilled from the default model
    """
    folder = build_fast_model(force=force) if fast else build_default_model(force=force)
    click.echo(f"model ready: {folder}")


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cli(prog_name="goalsearch")


if __name__ == "__main__":
    main()
