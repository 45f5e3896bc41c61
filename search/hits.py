"""What a search returns: ``Hit`` (one ranked record, and how each side ranked it) and ``SearchMode``."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..indexer import Record, UsageError

from .highlight import Snippet


class SearchMode(str, Enum):
    """How to rank: both sides fused, or one side alone."""

    HYBRID = "hybrid"
    BM25 = "bm25"
    SEMANTIC = "semantic"

    @classmethod
    def parse(cls, value: "str | SearchMode") -> "SearchMode":
        try:
            return cls(value)
        except ValueError:
            raise UsageError(f"unknown mode {str(value)[:40]!r}; choose one of {', '.join(m.value for m in cls)}") from None


@dataclass
class Hit:
    """One search result: the record, its fused score and rank, and how each side ranked it."""

    record: Record
    score: float
    rank: int
    bm25_rank: int | None = None
    bm25_score: float | None = None
    semantic_rank: int | None = None
    semantic_score: float | None = None
    highlights: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    snippet: Snippet | None = None
    synonyms: list[str] = field(default_factory=list)  # synonym alternatives of the query that this record contains
    family_id: str | None = None  # the project family (indexer.families) the record is in
    bm25_part: float | None = None  # hybrid: what each side added to the fused score (search.fusion.parts)
    semantic_part: float | None = None
    name_first: bool = False  # ranked before the rest because its name holds the short query whole

    def to_dict(self) -> dict:
        data = self.record.to_dict()
        # ``score`` is the ranking's; a self-evaluation's own total (the record's ``score``) keeps its value here
        data.update(evaluation_score=data.get("score"), family_id=self.family_id, score=self.score, rank=self.rank, bm25_rank=self.bm25_rank, bm25_score=self.bm25_score,
                    semantic_rank=self.semantic_rank, semantic_score=self.semantic_score, bm25_part=self.bm25_part,
                    semantic_part=self.semantic_part, name_first=self.name_first,
                    highlights={k: [list(r) for r in v] for k, v in self.highlights.items()},
                    snippet=self.snippet.to_dict() if self.snippet else None, synonyms=self.synonyms)
        return data
