"""Parsing one budget document into Records, with an IngestReport that reconciles.

read (a reader per input kind: text, PDF, HTML) → other table renderings to tab rows →
find tables → parse each table kind → merge the same project across tables → ids,
cities and categories. Every row read ends in a Record or a Skip; for a PDF the report
also reconciles page by page.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .categories import classify
from .entries import Entry, TableResult
from ..errors import DocumentError, Unreadable
from .expenditure import parse_expenditure
from .forms import read_forms
from .forms.to_records import form_records
from .keyprojects import parse_key_projects
from .layout import find_tables
from .merge import attach_indicators, merge_entries
from .metadata import document_meta, first_place
from .overall import parse_overall
from .readers import Lines, read_bytes
from .readers.lines import split_lines
from .renderings import tab_rows
from ..records import IngestReport, Record, Skip, record_id
from ..storage.generations import CURRENT

PARSERS = {
    "expenditure": parse_expenditure,
    "key_project": parse_key_projects,
    "overall": parse_overall,
}

DOCUMENT_SUFFIXES = (".txt", ".md", ".text")


def parse_text(text: str, source: str, encoding: str | None = None) -> tuple[list[Record], IngestReport]:
    """Parse document text. Raises DocumentError when it holds no recognisable table."""
    return parse_lines(Lines(split_lines(text), "text", encoding=encoding), source)


def parse_lines(document: Lines, source: str) -> tuple[list[Record], IngestReport]:
    """Parse a document a reader has turned into lines. Raises DocumentError when it holds no recognisable table."""
    lines, rendering = tab_rows(document.lines)
    report = IngestReport(source=source, encoding=document.encoding, kind=document.kind,
                          rendering=rendering, page_count=document.page_count,
                          textless_pages=document.textless_pages or [])
    meta = document_meta(lines)
    tables = find_tables(lines)
    claimed = {number for t in tables if t.rows for number in range(t.title_line, t.rows[-1].line + 1)}
    forms = read_forms(document.lines, meta.year, claimed)
    if not any(t.rows for t in tables) and not forms:
        count = document.page_count
        where = f" in {count} page{'s' if count > 1 else ''}" if count else ""
        raise DocumentError(f"{source}: no project table found{where} (is this a 部门预算 document, "
                            "or a 绩效目标表 or 自评表?)")

    results: dict[str, list[TableResult]] = {name: [] for name in PARSERS}
    for table in tables:
        result = PARSERS[table.section](table, source, meta.department)
        results[table.section].append(result)
        report.tables.append({"section": table.section, "line": table.title_line, "rows": result.rows_read})
        report.rows_read += result.rows_read
        report.skips.extend(result.skips)

    def entries_of(section: str) -> list[Entry]:
        return [e for r in results[section] for e in r.entries]

    overall = results["overall"]
    department = meta.department or next((r.unit for r in overall if r.unit), "")
    entries, merged = merge_entries(entries_of("expenditure"), entries_of("key_project"), source)
    entries, merged_overall = merge_entries(entries, entries_of("overall"), source)
    attach_indicators(entries, [i for r in overall for i in r.indicators], "overall")
    overall_goal = next((r.overall_goal for r in overall if r.overall_goal), "")
    overall_unit = next((r.unit for r in overall if r.unit), "")

    records = _records(entries, meta.year, department, overall_unit, overall_goal, source)
    by_entry = {id(entry): record for entry, record in zip(entries, records)}
    for skip, target in merged + merged_overall:
        skip.merged_into = by_entry[id(target)].id
        report.skips.append(skip)
    for entry, record in zip(entries, records):
        for skip in entry.absorbed:
            skip.merged_into = record.id
            report.skips.append(skip)
    report.skips.sort(key=lambda s: s.line)
    if document.pages:
        report.pages = _by_page(document.pages, tables, records, report.skips)
    from_forms, report.forms = form_records(forms, source)
    records += from_forms
    report.records = len(records)
    return records, report


def _by_page(pages: list[int], tables, records: list[Record], skips: list[Skip]) -> list[dict]:
    """Rows read, records, merged and skipped rows of each page that has table rows (lines are 1-based)."""
    def page_of(line: int) -> int:
        return pages[line - 1] if 0 < line <= len(pages) else 0

    counts: dict[int, dict] = {}

    def page(number: int) -> dict:
        return counts.setdefault(number, {"page": number, "rows_read": 0, "records": 0, "merged": 0, "skipped": 0})

    for table in tables:
        for row in table.rows:
            page(page_of(row.line))["rows_read"] += 1
    for record in records:
        page(page_of(record.line))["records"] += 1
    for skip in skips:
        page(page_of(skip.line))["merged" if skip.merged_into else "skipped"] += 1
    return [counts[n] for n in sorted(counts)]


def _records(entries: list[Entry], year, department: str, overall_unit: str, overall_goal: str, source: str) -> list[Record]:
    seen: Counter = Counter()
    records = []
    for entry in entries:
        unit = entry.unit or overall_unit or department
        province, city = first_place(unit, department)  # cached: a department is looked up once
        key = (unit, entry.name)
        ordinal = seen[key]
        seen[key] += 1
        records.append(Record(
            id=record_id(year, department, unit, entry.name, ordinal),
            name=entry.name, goal=entry.goal, city=city, province=province, year=year,
            department=department, unit=unit, amount=entry.amount, amounts=entry.amounts,
            category=classify(entry.name, entry.goal), sections=entry.sections, source=source,
            line=entry.line, lines=sorted(entry.lines), aliases=entry.aliases,
            indicators=entry.indicators, overall_goal=overall_goal if "overall" in entry.sections else "",
            warnings=entry.warnings,
        ))
    return records


def parse_bytes(data: bytes, source: str) -> tuple[list[Record], IngestReport]:
    """Parse raw document bytes (text in UTF-8 or GB18030, a PDF, an HTML page), naming them ``source`` in reports."""
    return parse_lines(read_bytes(data, source), source)


def parse(path: str | Path) -> tuple[list[Record], IngestReport]:
    """Parse one document file. Raises DocumentError for anything that is not one.

    >>> records, report = parse("indexer/samples/000_775e4dcf1b94b677.txt")
    >>> len(records), report.reconciled
    (20, True)
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read ({exc.strerror})") from None
    return parse_bytes(data, str(path))


def is_index_folder(folder: Path) -> bool:
    """Is ``folder`` a goalsearch index (a ``CURRENT`` pointer beside ``gen-*`` generations)?
    Its files are the index's own, never documents to read."""
    try:
        return (folder / CURRENT).is_file() and any(folder.glob("gen-*"))
    except OSError:  # a folder that cannot be listed is reported when it is walked
        return False


def _walk(folder: Path) -> tuple[list[Path], list[OSError]]:
    """The files below ``folder``, sorted, without hidden files or folders, and without
    goalsearch index folders inside it (``index DOCS`` when DOCS holds ``DOCS/index``)."""
    import os

    failed: list[OSError] = []
    inside = []
    for parent, dirs, names in os.walk(folder, onerror=failed.append):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not is_index_folder(Path(parent) / d)]
        # Every other entry, FIFOs and dangling links too: the readers refuse them one by one (``not_a_file``), so
        # none is passed over without a word.
        inside.extend(Path(parent) / name for name in names if not name.startswith("."))
    return sorted(inside), failed


def not_a_file(path: Path, info=None) -> str | None:
    """Why ``path`` is no document file to read, one line (None for a regular file, or one that is
    missing for another reason): a dangling symbolic link, or a FIFO, socket or device, whose
    reading would block forever or never end. ``info``: its ``stat`` when the caller has it."""
    import stat

    try:
        info = info or path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return f"{path}: a symbolic link to {_link_target(path)}, which does not exist"
        return None
    except OSError:
        return None
    if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
        return None
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) \
        else "a device"
    return f"{path}: {kind}, not a document file"


def _link_target(path: Path) -> str:
    """Where a symbolic link points, for a message."""
    try:
        return str(path.readlink())
    except OSError:
        return "?"


def document_files(paths: list[str | Path]) -> list[Path]:
    """The files a list of paths names: files as given, directories walked (sorted, ``_walk``)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found.extend(_walk(path)[0] if path.is_dir() else [path])
    return found


def collect_files(paths: list[str | Path], missing_ok: bool = False) -> tuple[list[Path], list[str]]:
    """The files a list of paths names, and what could not be read, one line each.

    Like ``document_files``, but a folder that cannot be listed is reported instead of
    skipped silently (``os.walk``'s ``onerror``), a path that does not exist is reported
    (unless ``missing_ok``: removing a deleted file from the index), a file name that is not
    valid UTF-8 is reported (it could not be stored or shown), a goalsearch index given as a
    path is reported (one inside a given folder is passed over, ``_walk``), and the same file
    reached under two names (a hard link, or a folder given twice) is listed once.
    """
    import os

    found: list[Path] = []
    problems: list[str] = []
    seen: set[tuple[int, int]] = set()

    def add(path: Path) -> None:
        shown = os.fsencode(path).decode("utf-8", "replace")
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{shown}: file name is not valid UTF-8; rename it")
            return
        try:
            info = path.stat()
        except FileNotFoundError:
            if path.is_symlink() and not missing_ok:
                problems.append(not_a_file(path) or f"{shown}: no such file or directory")
            elif missing_ok:
                found.append(path)
            else:
                problems.append(f"{shown}: no such file or directory")
            return
        except OSError as exc:
            problems.append(f"{shown}: cannot read ({exc.strerror})")
            return
        if not_a_file(path, info):
            problems.append(not_a_file(path, info))
            return
        key = (info.st_dev, info.st_ino)
        if key not in seen:
            seen.add(key)
            found.append(path)

    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            add(path)
            continue
        if is_index_folder(path):
            problems.append(f"{path}: is a goalsearch index, not documents; name the folders of the budget files")
            continue
        inside, failed = _walk(path)
        for file in inside:  # the order document_files gives: record order, hence tie order
            add(file)
        for exc in failed:
            shown = os.fsencode(exc.filename or path).decode("utf-8", "replace")
            problems.append(f"{shown}: cannot read folder ({exc.strerror})")
    return found, problems


def skip_summary(report: IngestReport) -> Counter:
    """How many rows were skipped for each reason (reasons with details folded)."""
    return Counter(s.reason.split(":")[0].split(" (")[0] for s in report.skips if not s.merged_into)


__all__ = ["parse", "parse_bytes", "parse_lines", "parse_text", "document_files", "collect_files", "skip_summary", "Skip"]
