"""search: querying an index — filters, BM25, semantic search, fusion, highlights, the Python API.

Public names only; everything else in this package is internal.
"""
from ..indexer import (
    AmbiguousRecord,
    GoalsearchError,
    IndexCorrupt,
    IndexIncompatible,
    IndexLocked,
    IndexMissing,
    RecordNotFound,
    UsageError,
)

from .api import GoalSearch
from .hits import Hit, SearchMode
from .reader import IndexReader, sample_corpus
from .duplicates import DuplicateCluster, DuplicatePair, Duplicates
from .families import FamilyHit, FamilySort, FamilyView, GroupBy, YearAmount
from .evaluate import EvalReport, evaluate, load_queries
from .filters import Filters, parse_years
from .fusion import FusionMethod, rrf
from .highlight import CLAUSE_ENDS, Snippet, clause_starts
from .cells import SpreadsheetSafeWriter, spreadsheet_cell
from .stats import Stats, check_index
from .totals import DIMENSIONS, MatchRule, Totals, TotalsGroup

__all__ = [
    "AmbiguousRecord", "EvalReport", "Filters", "FusionMethod", "GoalSearch", "GoalsearchError", "Hit", "IndexCorrupt",
    "IndexReader",
    "IndexIncompatible", "IndexLocked", "IndexMissing", "RecordNotFound", "SearchMode", "Snippet", "Stats",
    "UsageError", "check_index", "evaluate", "load_queries", "parse_years", "rrf", "sample_corpus",
    "DuplicateCluster", "DuplicatePair", "Duplicates", "FamilyHit", "FamilySort", "FamilyView", "GroupBy", "YearAmount",
    "DIMENSIONS", "MatchRule", "Totals", "TotalsGroup", "SpreadsheetSafeWriter", "spreadsheet_cell",
    "CLAUSE_ENDS", "clause_starts",
]
