"""The Whoosh side of the index: schema, and adding or replacing a file's records.

Text fields use the jieba analyzer; ``id`` and ``source`` are unique keys so a
re-indexed file's documents are deleted by ``source`` and added again (Whoosh's
``update_document`` pattern). City, year, category and amount are indexed too, so
power users can write ``name:运维 AND year:2026``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

from ..analysis.analyzer import chinese_analyzer
from ..files import data_json
from ..records import Record, city_label
from .whoosh_pickle import install as _restrict_whoosh_pickles

# Every process that imports ``indexer`` reads Whoosh's pickles through the allow-list.
_restrict_whoosh_pickles()

FULLTEXT = "fulltext"  # the folder of a generation that holds the Whoosh index
TEXT_FIELDS = ("name", "aliases", "goal", "unit", "department", "indicators", "actual")
KEYWORD_FIELDS = ("city", "category", "section", "kind")


def make_schema(extra_words: tuple[str, ...] = ()) -> Schema:
    """The schema of the full-text index."""
    analyzer = chinese_analyzer(extra_words)
    text = {field: TEXT(analyzer=analyzer, phrase=True) for field in TEXT_FIELDS}
    return Schema(id=ID(stored=True, unique=True), source=ID(stored=False),
                  city=ID(), category=ID(), section=KEYWORD(commas=True), kind=ID(), **numeric_fields(), **text)


def schema_fields() -> list[str]:
    """The fields of the schema this goalsearch writes: an index with others is rewritten whole on update."""
    return sorted(make_schema().names())


def numeric_fields() -> dict[str, NUMERIC]:
    """The numeric fields, whose query terms are these types' byte encodings of numbers."""
    return {"year": NUMERIC(int), "amount": NUMERIC(float, bits=64)}


def keyword_values(record: Record) -> dict[str, str | int | float]:
    """The keyword and numeric fields of a record as Whoosh indexes them (and as syntax
    queries on the term matrices match them)."""
    return {"city": city_label(record.city) or "", "year": record.year or 0, "category": record.category,
            "section": ",".join(record.sections), "kind": record.kind, "amount": record.amount or 0.0}


def field_texts(record: Record) -> dict[str, str]:
    """The text of each full-text field of a record (the same for Whoosh and the term matrix)."""
    return {"name": record.name, "aliases": " ".join(record.aliases), "goal": record.goal,
            "unit": record.unit, "department": record.department, "indicators": indicator_text(record),
            "actual": record.actual}


def indicator_text(record: Record) -> str:
    """What the indicators of a record say, one line each: name, target and what was achieved."""
    return "\n".join(" ".join(part for part in (i.name, i.target, i.actual) if part) for i in record.indicators)


def _document(record: Record, texts: Callable[[Record], dict[str, str]] = field_texts) -> dict:
    return {"id": record.id, "source": record.source, **texts(record), **keyword_values(record)}


def open_fulltext(directory: Path):
    """Open a generation's Whoosh index; any error reading it is ``IndexCorrupt`` naming the folder.

    Call only after its files were checked against the manifest: Whoosh unpickles its TOC
    (through the allow-list of ``whoosh_pickle``, which stops code but not garbage).
    """
    from ..errors import GoalsearchError
    from .integrity import damaged

    try:
        return whoosh_index.open_dir(str(directory))
    except GoalsearchError:
        raise
    except Exception as exc:  # noqa: BLE001 - Whoosh raises assorted errors (its own IndexError too) on damaged files
        raise damaged(directory.parent, directory.name, f"{type(exc).__name__}: {str(exc)[:80]}") from None


def write_fulltext(directory: Path, records: list[Record], replace_sources: set[str],
                   extra_words: tuple[str, ...], previous: Path | None = None,
                   texts: Callable[[Record], dict[str, str]] = field_texts) -> None:
    """Write the full-text index into ``directory``.

    With ``previous``, its files are the starting point: the documents of every
    source in ``replace_sources`` are deleted, then ``records`` are added. ``texts`` gives a
    record's field texts (``FieldTokens.texts`` gives them cut, once for this index and the term matrices).
    """
    if previous is not None and whoosh_index.exists_in(str(previous)):
        import shutil

        # Copy symlinks as symlinks, never their targets (a link to /dev/zero would fill the disk);
        # ``generations.checksums`` refuses the generation before we get here, and refuses this one at publish.
        shutil.copytree(previous, directory, symlinks=True)
        ix = open_fulltext(directory)
    else:
        directory.mkdir(parents=True)
        ix = whoosh_index.create_in(str(directory), make_schema(extra_words))
    settings = data_json("build.json")
    per_segment = settings["segment_records"]
    batches = [records[start:start + per_segment] for start in range(0, len(records), per_segment)] or [[]]
    try:
        for number, batch in enumerate(batches):
            # A segment per batch, sorted in memory (``writer_limitmb``): one segment of everything spilled
            # its postings to disk in pickled runs and merged them back, a third of Whoosh's time. Scores
            # do not change: Whoosh takes idf and average lengths from the whole index.
            last = number == len(batches) - 1
            writer = ix.writer(limitmb=settings["writer_limitmb"])
            try:
                if number == 0:
                    for source in sorted(replace_sources):
                        writer.delete_by_term("source", source)
                for record in batch:
                    writer.add_document(**_document(record, texts))
                writer.commit(merge=last and previous is not None)  # an update merges small segments, as before
            except BaseException:
                try:
                    writer.cancel()
                except Exception:  # noqa: BLE001 - a failed commit closes the writer; keep the error that caused it
                    pass
                raise
    finally:
        ix.close()
