"""Which projects a total counts: precision, recall and F1 of each matching rule against the judgements.

    python -m goalsearch index indexer/samples --index-dir /tmp/totals-idx
    python benchmarks/totals_matching.py --index-dir /tmp/totals-idx --json benchmarks/results/totals_matching.json

A record judged 1 or 2 for a query is relevant (``search.evaluate.resolve`` maps the judged names to records);
every other record is not. A rule's matching set is compared with that set, record by record, before the
family-per-year counting (judgements name records). Precision, recall and F1 are pooled over the queries of
a kind (micro: every judged record weighs the same) and also averaged per query (macro F1).

Rules (``RULES``): the shipped ``strict``, ``broad`` and ``default`` (every word in the name, or fused score ≥ t;
``search.totals``), and what was tried beside them: fused ≥ t alone, strict or fused ≥ t, every word in the name
alone, a three-clause rule, raw cosine ≥ t, the first k fused hits. Each parameter is fitted once over all
queries of the dev set (``benchmarks/dev_queries.json``) by pooled F1, never per query; the fitted values are then
applied unchanged to the older ``benchmarks/eval_queries.json``, which was not fitted on. ``shipped_curve_dev`` in the
JSON is the shipped rule's precision, recall and F1 at every threshold of the grid.
"""
from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from goalsearch.search import GoalSearch, load_queries  # noqa: E402
from goalsearch.search.evaluate import resolve  # noqa: E402
from goalsearch.search.totals import totals_settings, word_matches  # noqa: E402

SETS = {"dev": ROOT / "benchmarks" / "dev_queries.json", "old": ROOT / "benchmarks" / "eval_queries.json"}
GRID = [round(t, 2) for t in np.arange(0.30, 1.001, 0.025)]
COSINES = [round(t, 3) for t in np.arange(0.80, 0.951, 0.005)]
TOPS = [1, 2, 3, 5, 8, 10, 15, 20]


def signals(index: GoalSearch, query: str) -> dict:
    """Per record: query words matched in name/goal/indicators and in the name alone (of how many), and the
    fused score and raw cosine of the hybrid ranking over every record."""
    settings = totals_settings()
    plain = index.bm25.parse(query).plain
    count, groups = word_matches(index.bm25.lexical, plain, settings["fields"], settings["ngram_fields"])
    named, _ = word_matches(index.bm25.lexical, plain, settings["name_fields"], settings["name_ngram_fields"])
    hits = index.search(query, mode="hybrid", limit=len(index.store), highlight=False, fusion="convex")
    return {"count": count, "named": named, "groups": groups,
            "fused": [(index.store.row[h.record.id], h.score) for h in hits],
            "cosine": {index.store.row[h.record.id]: h.semantic_score for h in hits if h.semantic_score is not None}}


def _words(s: dict, column: str = "count", need: int | None = None) -> set[int]:
    """Rows with at least ``need`` of the query's words in ``column`` (default: all of them)."""
    if not s["groups"]:
        return set()
    return {int(r) for r in np.flatnonzero(s[column] >= (need or s["groups"]))}


def _fused(s: dict, t: float) -> set[int]:
    return {r for r, score in s["fused"] if score >= t}


SHIPPED = "default (name words or fused)"
# rule → (its parameters' names and grids, fitted on dev; function(signals, *values) → rows)
RULES = {
    "strict": ((), lambda s: _words(s)),
    "broad": ((), lambda s: _words(s, need=1)),
    SHIPPED: ((GRID,), lambda s, t: _words(s, "named") | _fused(s, t)),
    "fused": ((GRID,), lambda s, t: _fused(s, t)),
    "strict or fused": ((GRID,), lambda s, t: _words(s) | _fused(s, t)),
    "name words": ((), lambda s: _words(s, "named")),
    "name words, or strict and fused ≥ a, or fused ≥ b": ((GRID[::2], GRID[::2]),
                                                          lambda s, a, b: _words(s, "named") | (_words(s) & _fused(s, a))
                                                          | _fused(s, b)),
    "cosine": ((COSINES,), lambda s, t: {r for r, c in s["cosine"].items() if c >= t}),
    "first k fused": ((TOPS,), lambda s, k: {r for r, _ in s["fused"][:k]}),
}


def scores(found: list[tuple[str, set[int], set[int]]], amounts: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Pooled precision, recall, F1 and macro F1 per kind (and ``all``) of (kind, matched, relevant) triples;
    with ``amounts`` (万元 per row) also the share of the counted money that is relevant and of the relevant
    money that is counted (what a total gets wrong, in money)."""
    by_kind = defaultdict(list)
    for kind, matched, relevant in found:
        by_kind[kind].append((matched, relevant))
        by_kind["all"].append((matched, relevant))
    out = {}
    for kind, pairs in by_kind.items():
        tp = sum(len(m & r) for m, r in pairs)
        fp = sum(len(m - r) for m, r in pairs)
        fn = sum(len(r - m) for m, r in pairs)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        macro = [2 * len(m & rel) / (len(m) + len(rel)) if m or rel else 1.0 for m, rel in pairs]
        out[kind] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 3),
                     "macro_f1": round(float(np.mean(macro)), 3), "mean_size": round(float(np.mean([len(m) for m, _ in pairs])), 1),
                     "queries": len(pairs)}
        if amounts is not None:
            money = lambda rows: float(sum(amounts[r] for r in rows))  # noqa: E731
            counted, relevant = sum(money(m) for m, _ in pairs), sum(money(r) for _, r in pairs)
            right = sum(money(m & r) for m, r in pairs)
            out[kind].update(amount_precision=round(right / counted, 3) if counted else 0.0,
                             amount_recall=round(right / relevant, 3) if relevant else 0.0)
    return out


def run(index: GoalSearch, queries: list[dict]) -> list[tuple[str, dict, set[int]]]:
    out = []
    for query in queries:
        judged, _ = resolve(index, query["relevant"])
        relevant = {index.store.row[i] for i, grade in judged.items() if grade >= 1}
        out.append((query["kind"], signals(index, query["query"]), relevant))
    return out


def fit(measured, name: str) -> tuple:
    """The values of ``name``'s parameters with the best pooled F1 over all queries of ``measured`` (ties: the first)."""
    grids, rule = RULES[name]
    best = None
    for values in itertools.product(*grids):
        f1 = scores([(k, rule(s, *values), rel) for k, s, rel in measured])["all"]["f1"]
        if best is None or f1 > best[0]:
            best = (f1, values)
    return tuple(float(v) if isinstance(v, float) else v for v in best[1])


def curve(measured, name: str = SHIPPED) -> list[dict]:
    """Pooled precision, recall and F1 of a one-parameter rule at every value of its grid (how flat the top is)."""
    (grid,), rule = RULES[name]
    return [dict(scores([(k, rule(s, t), rel) for k, s, rel in measured])["all"], value=float(t)) for t in grid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", default="/tmp/totals-idx")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "totals_matching.json"))
    args = parser.parse_args()
    with GoalSearch.open(args.index_dir) as index:
        measured = {name: run(index, load_queries(path)) for name, path in SETS.items()}
        amounts = np.nan_to_num(np.asarray(index.store.array("amount"), dtype=np.float64), nan=0.0)
    fitted = {name: fit(measured["dev"], name) for name in RULES}
    table = {set_name: {name: scores([(k, RULES[name][1](s, *fitted[name]), rel) for k, s, rel in rows], amounts)
                        for name in RULES} for set_name, rows in measured.items()}
    shipped = totals_settings()["default_fused_min"]
    report = {"fitted_on": "dev", "fitted": {k: list(v) for k, v in fitted.items()}, "shipped_default_fused_min": shipped,
              "shipped_curve_dev": curve(measured["dev"]), "results": table}
    Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    for set_name, by_rule in table.items():
        kinds = [k for k in next(iter(by_rule.values())) if k != "all"] + ["all"]
        print(f"\n{set_name} set ({by_rule['strict']['all']['queries']} queries) — P / R / F1 pooled, macro F1, mean set size")
        print(f"{'rule':58}" + "".join(f"{k:>26}" for k in kinds))
        for rule_name, by_kind in by_rule.items():
            label = rule_name + (f" ({', '.join(f'{v:g}' for v in fitted[rule_name])})" if fitted[rule_name] else "")
            cells = [f"{v['precision']:.2f}/{v['recall']:.2f}/{v['f1']:.2f} {v['macro_f1']:.2f} {v['mean_size']:>5}"
                     for v in (by_kind[k] for k in kinds)]
            print(f"{label:58}" + "".join(f"{c:>26}" for c in cells))
        print("in money (万元): share of the counted amount that is relevant / of the relevant amount that is counted")
        for rule_name in ("strict", SHIPPED, "broad"):
            print(f"{rule_name:58}" + "".join(f"{v['amount_precision']:.2f}/{v['amount_recall']:.2f}".rjust(26)
                                            for v in (by_rule[rule_name][k] for k in kinds)))
    print(f"\nfitted on dev: {fitted}; shipped default_fused_min {shipped}")


if __name__ == "__main__":
    main()
