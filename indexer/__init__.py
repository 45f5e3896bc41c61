"""indexer: budget documents → project records → search indexes.

Public names only; everything else in this package is internal.
"""
from .build import BuildResult, build_index, index_paths, load_records, load_reports, remove_paths
from .parse.categories import categories, classify
from .parse.document import document_files, parse, parse_bytes, parse_paths, parse_text
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
from .parse.metadata import city_label
from .records import SECTION_LABELS, Indicator, IngestReport, Record, Skip
from .sources import not_indexed

__all__ = [
    "BuildResult", "build_index", "index_paths", "load_records", "load_reports", "remove_paths",
    "AmbiguousRecord", "DocumentError", "GoalsearchError", "IndexCorrupt", "IndexIncompatible",
    "IndexLocked", "IndexMissing", "Indicator", "IngestReport", "Record", "RecordNotFound",
    "SECTION_LABELS", "Skip", "UsageError", "categories", "city_label", "classify",
    "document_files", "parse", "parse_bytes", "parse_paths", "parse_text",
]
__all__ += ["not_indexed"]
from .ray_build import index_paths_ray  # noqa: E402  (Ray itself is imported only when it runs)

__all__ += ["index_paths_ray"]
