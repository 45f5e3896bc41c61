"""indexer: budget documents → project records → search indexes.

Its rooms: ``parse`` (documents to records), ``analysis`` (text to tokens), ``models`` (embedding
models that run offline), ``storage`` (a generation on disk); beside them the record types
(``records``), the errors, the files goalsearch owns (``files``), project families, and building
(``build``, ``ray_build``). Public names only here; everything else is internal.
"""
from .build import BuildResult, build_index, index_paths, not_indexed, remove_paths
from .errors import (
    AmbiguousRecord,
    DocumentError,
    GoalsearchError,
    IndexCorrupt,
    IndexIncompatible,
    IndexLocked,
    IndexMissing,
    RecordNotFound,
    UsageError,
)
from .parse.accuracy import ParseAccuracy, evaluate_parsing
from .parse.budget import ParseLimits, parse_paths, parse_within_limits
from .parse.categories import categories, classify
from .parse.document import document_files, parse, parse_bytes, parse_text
from .ray_build import index_paths_ray  # Ray itself is imported only when it runs
from .records import KIND_LABELS, SECTION_LABELS, Indicator, IngestReport, Record, Skip, city_label
from .storage.contents import load_records, load_reports

__all__ = [
    "AmbiguousRecord", "BuildResult", "ParseAccuracy", "evaluate_parsing", "DocumentError", "GoalsearchError", "IndexCorrupt", "IndexIncompatible",
    "IndexLocked", "IndexMissing", "Indicator", "IngestReport", "KIND_LABELS", "Record", "RecordNotFound", "SECTION_LABELS",
    "Skip",
    "UsageError", "build_index", "categories", "city_label", "classify", "document_files", "index_paths",
    "index_paths_ray", "load_records", "load_reports", "not_indexed", "parse", "parse_bytes", "parse_paths",
    "parse_text", "remove_paths", "ParseLimits", "parse_within_limits",
]
