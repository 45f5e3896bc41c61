"""indexer.storage: what a generation holds on disk, and how it is written, read, verified, locked and published.

An index folder holds generations (``gen-…``), one of them live through the ``CURRENT`` pointer
(``generations``: publish, pin, manifest and checksums), written by one writer at a time (``lock``).
A generation holds the records (``record_store``, SQLite; ``contents`` reads them back with the
ingest reports), the Whoosh full-text index (``fulltext``, its pickles read through ``whoosh_pickle``),
the term matrices (``terms``, ``term_weights``), the vectors (``vectors``, read through
``file_reads``) and the project families (``family_store``); ``integrity`` checks what is read.
"""
from .contents import LEGACY_RECORDS, REPORTS, load_records, load_reports
from .family_store import check_families, compute_families, load_families
from .fulltext import FULLTEXT, open_fulltext, write_fulltext
from .generations import CURRENT, MANIFEST, current_generation, pin, publish, read_manifest, unpin
from .lock import write_lock
from .record_store import RECORD_DB, RecordStore, write_store
from .terms import TERMS, write_terms
from .vectors import IVF, VECTORS, vector_settings, write_vectors

__all__ = [
    "CURRENT", "FULLTEXT", "IVF", "LEGACY_RECORDS", "MANIFEST", "RECORD_DB", "REPORTS", "RecordStore", "TERMS",
    "VECTORS", "check_families", "compute_families", "current_generation", "load_families", "load_records",
    "load_reports", "open_fulltext", "pin", "publish", "read_manifest", "unpin", "vector_settings",
    "write_fulltext", "write_lock", "write_store", "write_terms", "write_vectors",
]
