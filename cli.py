"""goalsearch command line: a thin click layer over ``search.GoalSearch`` and ``indexer``.

Each command reads its options, calls the API, and renders the result as a table
(rich), JSON or CSV. Errors from the API map, in one place, to a one-line message
and exit status 1 (failures) or 2 (usage).
"""
from __future__ import annotations

import os
import shutil
import sys
from functools import wraps
from pathlib import Path

import click

from . import cli_render as render
from . import cli_wrap
from .cli_safe import echo, json_text, visible
from . import cli_render_families as render_families
from . import cli_render_totals as render_totals
from .indexer import (
    KIND_LABELS,
    SECTION_LABELS,
    DocumentError,
    GoalsearchError,
    IndexCorrupt,
    UsageError,
    categories,
    city_label,
    document_files,
    evaluate_parsing,
    index_paths,
    index_paths_ray,
    not_indexed,
    parse_within_limits,
    remove_paths,
)
from .indexer.models.embedding import (
    build_default_model,
    build_fast_model,
    default_model_dir,
)
from .search.filters import FIRST_YEAR, LAST_YEAR
from .search import (AmbiguousRecord, FamilySort, FusionMethod, GoalSearch, GroupBy, MatchRule, check_index, parse_years,
                     sample_corpus)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SECTIONS = list(SECTION_LABELS)
KINDS = list(KIND_LABELS)


# -- errors -----------------------------------------------------------------------
MAX_CANDIDATES = 20


def one_line_usage_error(exc: click.UsageError) -> str:
    """``Error: <message> (see 'goalsearch search -h')``: click's Usage/Try/Error triple as one line.

    Lines after the first (the candidates of an ambiguous name) follow it unchanged.
    """
    first, *rest = exc.format_message().splitlines() or [""]
    pointer = f" (see '{exc.ctx.command_path} -h')" if exc.ctx is not None else ""
    return "\n".join([f"Error: {first.rstrip('.')}{pointer}"] + rest)


class GoalsearchGroup(click.Group):
    """The top-level group: as click's, but a usage error is said in one line with the command's ``-h``, and
    help (of the group, its commands and subgroups) is wrapped by display cells (``cli_wrap.HelpFormatter``)."""

    context_class = cli_wrap.Context
    command_class = cli_wrap.Command
    group_class = type

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            for line in one_line_usage_error(exc).split("\n"):  # the candidates' fields are escaped one by one
                echo(line, err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            echo(f"Error: {exc.format_message()}", err=True)  # click's show(), through cli_safe
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def candidate_lines(exc: AmbiguousRecord) -> list[str]:
    """The projects an ambiguous name matches, each its id and name, then where it is from (city, year, unit),
    wrapped to the width of stderr (a candidate on one line ran to 181 columns); long lists say they are cut."""
    from rich.text import Text

    shown = exc.candidates[:MAX_CANDIDATES]
    width = max(40, cli_wrap.output_columns(sys.stderr) or shutil.get_terminal_size().columns) - 20
    lines = []
    for r in shown:
        name = [part.plain for part in cli_wrap.lines(Text(visible(r.name, one_line=True)), width)]
        where = cli_wrap.lines(Text(visible(f"{city_label(r.city)} {r.year} · {r.unit}", one_line=True)), width)
        lines += [f"  {r.id}  {name[0]}", *(" " * 20 + part for part in name[1:]),
                  *(" " * 20 + part.plain for part in where)]
    if len(exc.candidates) > len(shown):
        lines.append(f"  (first {len(shown)} of {len(exc.candidates)}; narrow the name or pick an id)")
    return lines


def handle_errors(command):
    """Turn every GoalsearchError (and Ctrl-C) into one line and an exit status."""
    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AmbiguousRecord as exc:
            raise click.UsageError("\n".join([str(exc)] + candidate_lines(exc))) from None
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        except GoalsearchError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt as exc:  # InterruptedAfterPublish says what was published
            echo(str(exc) or "interrupted; the index is unchanged", err=True)
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
        click.option("--year", type=click.IntRange(FIRST_YEAR, LAST_YEAR), help="Only this budget year."),
        click.option("--years", help="Only years in a range: 2023-2026."),
        click.option("--department", help="Department name contains this."),
        click.option("--unit", help="Funding unit name contains this."),
        click.option("--category", multiple=True, help=f"Only this category (repeatable): {', '.join(categories())}."),
        click.option("--min-amount", type=float, help="Amount at least this (万元)."),
        click.option("--max-amount", type=float, help="Amount at most this (万元)."),
        click.option("--section", multiple=True, type=click.Choice(SECTIONS), help="Only records from this table."),
        click.option("--kind", multiple=True, type=click.Choice(KINDS),
                     help="Only records from this kind of document (repeatable): budget (部门预算 tables), "
                          "goal_form (绩效目标表), self_evaluation (自评表)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def fusion_option(command):
    return click.option("--fusion", type=click.Choice(FusionMethod.possible_values()), default=None,
                        help="How hybrid fuses the two sides: convex (weighted normalised scores, the default) or rrf.")(command)


def format_option(choices=("table", "json", "csv")):
    return click.option("--format", "output_format", type=click.Choice(choices), default="table", show_default=True,
                        help="Output format.")


def _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section, kind=()) -> dict:
    return {"city": list(city), "year": year, "years": parse_years(years) if years else None,
            "department": department, "unit": unit, "category": list(category),
            "min_amount": min_amount, "max_amount": max_amount, "section": list(section), "kind": list(kind)}


def _count(number: int, noun: str) -> str:
    """``1 file``, ``2 files``, ``0 records``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _open(index_dir: Path, model: str | None = None) -> GoalSearch:
    """Open the index; only the default location (no --index-dir, no GOALSEARCH_INDEX) is built
    from the sample corpus when new. A location the user named is never written by a search:
    a typo there must fail, not fill a folder (and clean up what was in it)."""
    source = click.get_current_context().get_parameter_source("index_dir")
    if source is not click.core.ParameterSource.DEFAULT:
        return GoalSearch.open(index_dir, model=model)
    with render.progress_bars(transient=True) as progress:
        if not (default_model_dir() / "goalsearch_model.json").exists():
            progress.note(f"Converting the bundled embedding model for sentence-transformers into {default_model_dir()} (once).")
            build_default_model(progress=progress)
        return GoalSearch.open_or_build_sample(index_dir, model=model, notify=progress.note, progress=progress)


# -- commands ---------------------------------------------------------------------------
@click.group(name="goalsearch", cls=GoalsearchGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="goalsearch")
def cli():
    """Search Chinese department budgets (部门预算): projects, amounts and 绩效目标.

    \b
    Quick start (the first search builds an index of the bundled samples):
        goalsearch search 政务云运维
        goalsearch search 社保卡 --city 深圳
        goalsearch samples                         # where the five bundled sample documents are
        goalsearch parse "$(goalsearch samples)" --format json
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
            if not path.exists() and not path.is_symlink():
                raise DocumentError(f"{path}: no such file or directory")
            records, report = parse_within_limits(path)
        except DocumentError as exc:
            echo(f"error: {exc}", err=True)
            failed += 1
            continue
        all_records.extend(records)
        render.print_report(report)
    if output_format == "json":
        render.json_out([r.to_dict() for r in all_records])
    elif output_format == "jsonl":
        for record in all_records:
            echo(json_text(record.to_dict(), indent=None))
    elif all_records:
        render.records_blocks(all_records)
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
@click.option("--synonyms", "synonyms_file", type=click.Path(exists=True, dir_okay=False),
              help="Extra synonym groups, one per line: 等保 = 等级保护 (kept in the index; searched as alternatives).")
@click.option("--keep-going", is_flag=True, help="Skip paths, files and folders that cannot be read (and say so) "
                                                "instead of publishing nothing.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None, metavar="[ADDRESS]",
              help="Parse and embed on Ray (pip install -e '.[cluster]'): a local Ray for this run, or the cluster at "
                   "ADDRESS or RAY_ADDRESS. Put it after the paths, or write --ray=ADDRESS.")
@handle_errors
def index_command(paths, index_dir, model, rebuild, remove, user_dict, synonyms_file, keep_going, ray_address):
    """Index budget documents (files or folders); re-indexing a file replaces its records.

    \b
    Examples:
        goalsearch index indexer/samples
        goalsearch index new_budget.txt            # add or replace one file
        goalsearch index --remove new_budget.txt   # take it out again
        goalsearch index --rebuild indexer/samples # from scratch
        goalsearch index indexer/samples --ray     # parse and embed on a local Ray
    """
    if ray_address and Path(ray_address).exists():
        raise UsageError(f"--ray took {ray_address!r} as the cluster address; put --ray after the paths, or write --ray=ADDRESS")
    if ray_address is not None and remove:
        raise UsageError("--ray builds; --remove needs no Ray: drop --ray")
    if not paths:
        raise UsageError("give the files or folders to index, e.g. goalsearch index indexer/samples")
    with render.progress_bars() as progress:
        missing = not_indexed(list(paths), index_dir) if remove else []
        if remove:
            result = remove_paths(list(paths), index_dir, progress=progress)
        else:
            build, where = (index_paths, {}) if ray_address is None else (index_paths_ray, {"address": ray_address})
            result = build(list(paths), index_dir, model=model, rebuild=rebuild, user_dict=user_dict,
                           synonyms=synonyms_file, progress=progress, keep_going=keep_going, **where)
    failed = [r for r in result.reports if r.error] + missing
    for source in missing:
        echo(f"note: {source} is not in the index; nothing removed for it", err=True)
    for report in result.reports:
        if report.error:
            echo(f"error: {report.error}", err=True)
        else:
            render.print_report(report)
    for note in result.notes:
        echo(f"note: {note}", err=True)
    echo(f"index {render.folder_label(index_dir)}: {_count(result.records, 'record')} from {_count(result.files, 'file')} "
         f"({result.added} added, {result.removed} replaced or removed, {_count(result.embedded, 'text')} embedded)", err=True)
    if failed:
        sys.exit(1)


@cli.command(name="search")
@click.argument("query", nargs=-1)
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "semantic"]), default="hybrid", show_default=True,
              help="Rank by words (bm25), by meaning (semantic) or both fused (hybrid).")
@filter_options
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many results.")
@format_option()
@click.option("--explain", is_flag=True, help="Show each hit's BM25 and semantic ranks and scores, and the synonyms used.")
@click.option("--group", type=click.Choice([g.value for g in GroupBy]),
              help="One row per project family: its newest project, the years it covers, its amounts.")
@fusion_option
@index_dir_option
@handle_errors
def search_command(query, mode, city, year, years, department, unit, category, min_amount, max_amount, section, kind,
                   limit, output_format, explain, group, fusion, index_dir):
    """Search projects by words and meaning; an empty QUERY lists the filtered projects by amount.

    QUERY may be several words, quoted or not (quote syntax with brackets or double quotes).

    \b
    Examples:
        goalsearch search 政务云运维
        goalsearch search 运维 NOT 信息化
        goalsearch search 社保卡 --city 深圳 --format json
        goalsearch search '"信息化运维"' --mode bm25 --years 2024-2026
        goalsearch search --category 运维 --min-amount 1000
        goalsearch search 信息化运维 --group family -n 5
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section, kind)
    with _open(index_dir) as index:
        if group:
            if explain:
                raise click.UsageError("--explain shows each project's ranks; leave out --group family to see them")
            rows = index.search(" ".join(query), mode=mode, limit=limit, fusion=fusion, group=group, **filters)
            render_families.family_hits_out(rows, output_format, index.problems)
            return
        hits = index.search(" ".join(query), mode=mode, limit=limit, fusion=fusion, **filters)
        render.hits(hits, output_format, explain, index.problems)
        if explain:
            render.expansions(index.expansions, hits)


@cli.command(name="similar")
@click.argument("id_or_name", required=False)
@click.option("--text", help="Find projects like this description instead of a stored project.")
@click.option("--other-cities", is_flag=True, help="Only projects of other cities.")
@click.option("--other-years", is_flag=True, help="Only projects of other years.")
@click.option("--include-family", is_flag=True, help="With --other-cities/--other-years, keep the project's own family "
                                                     "(the same project in other years), which is left out by default.")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "semantic"]), default="hybrid", show_default=True)
@filter_options
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@format_option()
@click.option("--explain", is_flag=True, help="Show ranks and scores of both sides.")
@fusion_option
@index_dir_option
@handle_errors
def similar_command(id_or_name, text, other_cities, other_years, include_family, mode, city, year, years, department, unit, category,
                    min_amount, max_amount, section, kind, limit, output_format, explain, fusion, index_dir):
    """Projects most like a given one (id or exact name), or like --text; never the project itself.

    A name that several projects share (the same project in two budget years) lists their ids: give one.
    With --other-cities or --other-years the project's own family (see `goalsearch family`) is left out.

    \b
    Examples:
        goalsearch similar 896deb80906e495c
        goalsearch similar 广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目 --other-years
        goalsearch similar --text "为12345热线提供话务场地和坐席服务" -n 5
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section, kind)
    with _open(index_dir) as index:
        hits = index.similar(id_or_name, text=text, limit=limit, other_cities=other_cities, other_years=other_years,
                             mode=mode, fusion=fusion, include_family=include_family, **filters)
        render.hits(hits, output_format, explain, index.problems)


@cli.command(name="show")
@click.argument("id_or_name")
@format_option(("table", "json"))
@index_dir_option
@handle_errors
def show_command(id_or_name, output_format, index_dir):
    """Show one record in full (by id, an id prefix of 6 or more characters, or exact name), indicators included.

    \b
    Examples:
        goalsearch show 896deb80906e495c
        goalsearch show 广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目 --format json
    """
    with _open(index_dir) as index:
        record = index.find(id_or_name)
    if output_format == "json":
        render.json_out(record.to_dict())
        return
    render.record_table(record)


@cli.command(name="family")
@click.argument("id_or_name")
@format_option()
@index_dir_option
@handle_errors
def family_command(id_or_name, output_format, index_dir):
    """The family of a project: the same project in every budget year, its amounts and their change.

    ID_OR_NAME is a project id, an exact name, or a family id (fam-…). Goals that changed from one
    year to the next are shown side by side, the changed text marked.

    \b
    Examples:
        goalsearch family 市人社数据服务中心社保卡制发管理服务经费
        goalsearch family 广州市人力资源和社会保障数据服务中心2026-2027年软件运维项目 --format json
    """
    with _open(index_dir) as index:
        family = index.family(id_or_name)
    render_families.family_out(family, output_format)


@cli.command(name="families")
@filter_options
@click.option("--sort", type=click.Choice([s.value for s in FamilySort]), default="total", show_default=True,
              help="total: amount over all years; growth: first to last year, in %; years: most budget years.")
@click.option("--min-members", type=click.IntRange(1, None), default=2, show_default=True,
              help="Only families of at least this many projects.")
@click.option("--min-years", type=click.IntRange(1, None), default=2, show_default=True,
              help="Only families seen in at least this many budget years (with --min-members 1: every project).")
@click.option("-n", "--limit", type=click.IntRange(1, None), default=20, show_default=True)
@format_option()
@index_dir_option
@handle_errors
def families_command(city, year, years, department, unit, category, min_amount, max_amount, section, kind, sort, min_members,
                     min_years, limit, output_format, index_dir):
    """Project families: projects that recur across budget years, with their amounts year by year.

    A family qualifies when one of its projects passes the filters.

    \b
    Examples:
        goalsearch families
        goalsearch families --sort growth --city 广州
        goalsearch families --unit 数据服务中心 --format csv
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section, kind)
    with _open(index_dir) as index:
        found = index.families(sort=sort, min_members=min_members, min_years=min_years, limit=limit, **filters)
    render_families.families_out(found, output_format)


@cli.command(name="duplicates")
@filter_options
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Least share of the shorter goal found in the other (default 0.6).")
@click.option("-n", "--limit", type=click.IntRange(1, None), default=50, show_default=True, help="Most pairs shown.")
@format_option()
@index_dir_option
@handle_errors
def duplicates_command(city, year, years, department, unit, category, min_amount, max_amount, section, kind, threshold,
                       limit, output_format, index_dir):
    """Near-duplicate goals: projects of different units, departments or cities whose 绩效目标 are (nearly) the same.

    Each pair shows both projects, their amounts and the longest passage they share; projects of
    one family (the same project in other years) are never paired.

    \b
    Examples:
        goalsearch duplicates
        goalsearch duplicates --threshold 0.8 --year 2024
        goalsearch duplicates --format json -n 5
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section, kind)
    with _open(index_dir) as index:
        found = index.duplicates(threshold=threshold, limit=limit, **filters)
    render_families.duplicates_out(found, output_format)


@cli.command(name="samples")
def samples_command():
    """Print the folder of the five sample documents that ship with goalsearch (广州 2024/2026, 江门 2021,
    深圳 2023), so that parse and index can be tried from any folder.

    \b
    Example:
        goalsearch parse "$(goalsearch samples)" --format json
    """
    echo(str(sample_corpus()))


@cli.command(name="totals")
@click.argument("query", nargs=-1)
@click.option("--by", "by", multiple=True, metavar="DIMENSION",
              help="Group by year, city, department, unit, category or kind (repeatable, or year,city; default: year).")
@click.option("--match", type=click.Choice([m.value for m in MatchRule]), default="default", show_default=True,
              help="Which projects count: strict (every query word, or a synonym, in name, goal or indicators), "
                   "default (strict, or a hybrid score above a threshold fitted on the dev set) or broad (any word).")
@filter_options
@click.option("--ids", is_flag=True, help="List the projects behind each row (id, amount, name).")
@format_option()
@index_dir_option
@handle_errors
def totals_command(query, by, match, city, year, years, department, unit, category, min_amount, max_amount, section,
                   kind, ids, output_format, index_dir):
    """How many projects match QUERY and what they cost (万元), by year, city, department …

    A project family counts once per budget year (a project in a budget table and in its goal form is one
    project). The first lines say which projects matched and how; an empty QUERY counts every project the
    filters allow.

    \b
    Examples:
        goalsearch totals 政务云运维
        goalsearch totals 信息化运维 --by year --by city --ids
        goalsearch totals 社保卡 --match strict --by department --format csv
        goalsearch totals --by category --years 2024-2026
    """
    filters = _filter_kwargs(city, year, years, department, unit, category, min_amount, max_amount, section, kind)
    text = " ".join(query)
    by = tuple(name.strip() for names in by for name in names.split(",")) or ("year",)  # --by year,city too
    with _open(index_dir) as index:
        totals = index.totals(text, by=by, match=match, **filters)
        problems = list(index.problems)
        chart = None
        if output_format == "table" and "year" not in totals.by and totals.count:  # the chart is by year
            chart = index.totals(text, by=("year",), match=match, **filters)
        hint = ("the projects behind each row: add --ids (or --format json); one of them: goalsearch\u00a0show\u00a0ID"
                if totals.count else "")
        render_totals.totals_out(totals, output_format, problems, hint, index.get if ids else None, chart,
                                 index.family_id_of)


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
            echo(f"problem: {problem}", err=True)
        sys.exit(1)
    echo(f"index {render.folder_label(index_dir)}: ok")


DEFAULT_QUERIES = Path(__file__).parent / "benchmarks" / "dev_queries.json"


@cli.command(name="eval")
@click.argument("queries_file", required=False, type=click.Path(path_type=Path))
@index_dir_option
@format_option(("table", "json"))
@fusion_option
@click.option("--rrf-k", type=click.IntRange(0, 10000), default=60, show_default=True, help="RRF constant (with --fusion rrf).")
@handle_errors
def eval_command(queries_file, index_dir, output_format, fusion, rrf_k):
    """Score bm25, semantic and hybrid on a labelled query set: nDCG@10, Recall@10, MRR@10, per query kind.

    QUERIES_FILE is JSON: {"queries": [{"id", "kind", "query", "relevant": {project: 2 or 1}}]};
    a project is a record id, a name (or alias; spaces ignored), or "name|unit". Default:
    benchmarks/dev_queries.json (60 queries written by someone who did not build the index);
    benchmarks/eval_queries.json is the older set written from the sample tables.

    \b
    Examples:
        goalsearch eval
        goalsearch eval benchmarks/eval_queries.json --format json
        goalsearch eval --fusion rrf --rrf-k 20
    """
    from .search import evaluate, load_queries

    path = queries_file or DEFAULT_QUERIES
    queries = load_queries(path)
    with _open(index_dir) as index:
        report = evaluate(index, queries, fusion=fusion, rrf_k=rrf_k)
    for problem in report.problems:
        echo(f"note: {problem}", err=True)
    if output_format == "json":
        render.json_out({mode: kinds for mode, kinds in report.by_mode.items()})
        return
    render.eval_table(report, path)


@cli.command(name="eval-parse")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--expected", type=click.Path(dir_okay=False, path_type=Path),
              help="The labelled records, one JSON object per line (default: FOLDER/expected.jsonl).")
@format_option(("table", "json"))
@click.option("--misses", is_flag=True, help="List every field read wrong, and every indicator not found.")
@handle_errors
def eval_parse_command(folder, expected, output_format, misses):
    """Score the parser on a folder of documents against records labelled by hand, field by field.

    On the complete records: the share of each field read exactly (whitespace aside), and of the
    indicators found with level 1, level 2, name, target and actual right; on every record: how
    often a field the document leaves empty was filled (it must be 0).

    \b
    Example:
        goalsearch eval-parse ../shared/templates
    """
    result = evaluate_parsing(folder, expected)
    if output_format == "json":
        render.json_out(result.to_dict())
        return
    render.parse_accuracy_table(result, folder, misses)


@cli.group(name="model")
def model_group():
    """The embedding models: the bundled multilingual-e5-small, and the fast model distilled from it."""


@model_group.command(name="build")
@click.option("--force", is_flag=True, help="Convert (or distil) again even if the cached folder is current.")
@click.option("--fast", is_flag=True, help="Distil the fast static model (for `index --model fast`) instead.")
@handle_errors
def model_build_command(force, fast):
    """Prepare a model folder (done on first use anyway): the default model and its ONNX export, or the fast one with --fast.

    \b
    Examples:
        goalsearch model build
        goalsearch model build --fast    # static word vectors distilled from the default model
    """
    from .indexer.models.onnx_embedder import Backend, build_onnx_model, configured_backend, model_problems

    if not fast and not force:
        for problem in model_problems(configured_backend().value):  # repaired below: said, not refused
            echo(f"note: {problem.split('; run ')[0]}; converting it again", err=True)
    with render.progress_bars() as progress:
        if fast:
            folder = build_fast_model(force=force, progress=progress)
        else:  # verify: every file hashed against its conversion's checksums, converted again when one differs
            folder = build_default_model(force=force, progress=progress, verify=True)
            if configured_backend() is not Backend.TORCH:  # the ONNX export the documents run on
                folder = build_onnx_model(configured_backend(), progress=progress, verify=True)
    echo(f"model ready: {folder}")


@cli.command(name="serve")
@index_dir_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The page has no login: keep it on loopback, or put it behind a reverse proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; they share the memory-mapped index.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests addressed to this host name (repeatable): the name users type when the "
                   "server listens on a network address. Others get 421, so a web page elsewhere cannot read the index.")
@handle_errors
def serve_command(index_dir, host, port, workers, allow_hosts):
    """Serve the search page and the JSON API (/api/) on this machine: http://127.0.0.1:8000/.

    Read-only; an index rebuilt while it runs is served from the next request on.

    \b
    Examples:
        goalsearch serve
        goalsearch serve --index-dir /data/index --port 8080 --workers 2
    """
    from .web import serve
    from .web.server import is_loopback, port_problem

    _open(index_dir).close()  # the default location is built from the samples once; a named one must exist
    problems = check_index(index_dir)  # checksums and every side readable: a damaged index fails here, not per request
    if problems:
        raise IndexCorrupt(f"{problems[0]}" + (f" (and {len(problems) - 1} more: goalsearch check)" if len(problems) > 1 else ""))
    busy = port_problem(host, port)
    if busy:
        raise UsageError(busy)
    if not is_loopback(host):
        echo(f"note: listening on {host}: anyone who can reach it reads the index (there is no login)", err=True)
    echo(f"goalsearch: http://{host if ':' not in host else f'[{host}]'}:{port}/  (Ctrl-C stops)", err=True)
    serve(index_dir, host=host, port=port, workers=workers, allowed_hosts=allow_hosts)


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cli(prog_name="goalsearch")


if __name__ == "__main__":
    main()
