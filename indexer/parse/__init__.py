"""indexer.parse: budget documents → project records.

A reader per input kind turns a file into lines of text; the layout step finds the
tables in those lines (cells separated by tabs); a parser per table kind turns their
rows into Entries and Skips; ``document`` merges the Entries into Records and keeps
the IngestReport that accounts for every row.
"""
from .categories import categories, classify
from .budget import ParseLimits, parse_paths, parse_within_limits
from .document import collect_files, document_files, parse, parse_bytes, parse_text, skip_summary
from ..records import city_label

__all__ = [
    "ParseLimits", "categories", "city_label", "classify", "collect_files", "document_files", "parse",
    "parse_bytes", "parse_paths", "parse_text", "parse_within_limits", "skip_summary",
]
