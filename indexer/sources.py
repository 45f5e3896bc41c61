"""Which documents an index holds: the sources of its ingest reports."""
from __future__ import annotations

from pathlib import Path

from .storage import generations as store
from .build import load_reports
from .parse.document import document_files


def not_indexed(paths: list[str | Path], index_dir: str | Path) -> list[str]:
    """The files under ``paths`` (folders walked) that the index at ``index_dir`` has never read.

    ``goalsearch index --remove`` names them, so a mistyped or unindexed file is not a silent no-op.

        >>> not_indexed(["new_budget.txt"], "index")
        ['/home/me/new_budget.txt']
    """
    generation = store.current_generation(Path(index_dir))
    known = {report.source for report in load_reports(generation)} if generation else set()
    return sorted({str(path.resolve()) for path in document_files(list(paths))} - known)
