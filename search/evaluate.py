"""Relevance evaluation: run a labelled query set through every mode and score the rankings.

The query file (JSON) holds ``{"queries": [{"id", "kind", "query", "relevant": {project: grade}}]}``;
a project is named by record id, exact name (or alias), or ``name|unit-substring``; grade 2 means
the same thing, 1 related. See ``benchmarks/eval_queries.json``.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..indexer import UsageError
from ..indexer.storage.schemas import schema_problem

from .api import GoalSearch, SearchMode
from .metrics import mrr_at_k, ndcg_at_k, recall_at_k

METRICS = {"ndcg@10": ndcg_at_k, "recall@10": recall_at_k, "mrr@10": mrr_at_k}


@dataclass
class EvalReport:
    """Mean metrics per mode, per query kind and overall, plus per-query scores and problems."""

    queries: int
    by_mode: dict[str, dict[str, dict[str, float]]]
    per_query: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def load_queries(path: str | Path) -> list[dict]:
    """The queries of a query file, checked for the fields every query needs."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"query file {path} not found") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"query file {path} is not JSON: {str(exc)[:100]}") from None
    queries = data.get("queries") if isinstance(data, dict) else None
    if not isinstance(queries, list) or not queries:
        raise UsageError(f"query file {path}: expected {{\"queries\": [...]}} with at least one query")
    for number, query in enumerate(queries, start=1):
        missing = [k for k in ("id", "kind", "query", "relevant") if k not in query] if isinstance(query, dict) else []
        if missing:
            raise UsageError(f"query file {path}: query {number} lacks {', '.join(missing)}")
    problem = schema_problem("eval_queries", data)  # the types: data/eval_queries.schema.json
    if problem:
        raise UsageError(f"query file {path}: {problem} (a query is {{\"id\": text, \"kind\": text, "
                         f"\"query\": text, \"relevant\": {{name: grade}}}})")
    return queries


def resolve(index: GoalSearch, relevant: dict[str, int]) -> tuple[dict[str, int], list[str]]:
    """Judgements keyed by record id; names that match no record are returned as problems.

    A name matches as ``GoalSearch.find`` matches one: spaces ignored, a record's aliases
    (its name in another table) count as its name.
    """
    judged: dict[str, int] = {}
    problems = []
    for key, grade in relevant.items():
        name, _, unit = (re.sub(r"\s+", "", part) for part in key.partition("|"))
        if key in index.by_id:
            ids = [key]
        else:
            ids = [r.id for r in index.records if (r.name == name or name in r.aliases) and unit in re.sub(r"\s+", "", r.unit)]
        if not ids:
            problems.append(f"no project matches {key!r}")
        for doc_id in ids:
            judged[doc_id] = max(judged.get(doc_id, 0), int(grade))
    return judged, problems


def evaluate(index: GoalSearch, queries: list[dict], modes: list[str] | None = None, **search_options) -> EvalReport:
    """Score every mode on every query; means per kind and overall."""
    modes = modes or [m.value for m in SearchMode]
    per_query: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    sums: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    problems: list[str] = []
    for query in queries:
        judged, unresolved = resolve(index, query["relevant"])
        problems += [f"{query['id']}: {p}" for p in unresolved]
        for mode in modes:
            ranked = [h.record.id for h in index.search(query["query"], mode=mode, limit=10, **search_options)]
            scores = {name: metric(ranked, judged, 10) for name, metric in METRICS.items()}
            per_query[query["id"]][mode] = scores
            for name, value in scores.items():
                sums[mode][query["kind"]][name].append(value)
                sums[mode]["overall"][name].append(value)
    by_mode = {mode: {kind: {name: round(sum(v) / len(v), 4) for name, v in metrics.items()}
                      for kind, metrics in kinds.items()} for mode, kinds in sums.items()}
    return EvalReport(len(queries), by_mode, dict(per_query), problems)
