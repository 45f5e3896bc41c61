"""Which projects a total counts: precision, recall and F1 of each matching rule against the judgements.

    python -m goalsearch index indexer/samples --index-dir /tmp/totals-idx
    python benchmarks/totals_matching.py --index-dir /tmp/totals-idx --json benchmarks/results/totals_matching.json

A record judged 1 or 2 for a query is relevant (``search.evaluate.resolve`` maps the judged names to records);
every other record is not. A rule's matching set is compared with that set, record by record, before the
family-per-year counting (judgements name records). Precision, recall and F1 are pooled over the queries of
a kind (micro: every judged record weighs the same) and also averaged per query (macro F1).

Rules: the shipped ``strict`` and ``broad`` (``search.totals.word_matches``), and rules with one parameter,
fitted once over all queries of the dev set (``benchmarks/dev_queries.json``) by pooled F1, never per query:
fused score ≥ t, strict or fused ≥ t (the shipped ``default``), raw cosine ≥ t, the first k fused hits.
The fitted values are then applied unchanged to the older ``benchmarks/eval_queries.json``, which was not fitted on.
"""
from __future__ import annotations

import argparse
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
    """Per record: query words matched (of how many), fused score and raw cosine of the hybrid ranking."""
    settings = totals_settings()
    plain = index.bm25.parse(query).plain
    count, groups = word_matches(index.bm25.lexical, plain, settings["fields"], settings["ngram_fields"])
    hits = index.search(query, mode="hybrid", limit=len(index.store), highlight=False)
    return {"count": count, "groups": groups,
            "fused": [(index.store.row[h.record.id], h.score) for h in hits],
            "cosine": {index.store.row[h.record.id]: h.semantic_score for h in hits if h.semantic_score is not None}}


def rules(fitted: dict[str, float]) -> dict:
    """Rule name → function(signals) → set of rows. ``fitted``: each parametric rule's value."""
    def words(s, need):
        return {int(r) for r in np.flatnonzero(s["count"] >= need)} if s["groups"] else set()

    return {
        "strict": lambda s: words(s, max(s["groups"], 1)),
        "broad": lambda s: words(s, 1),
        "fused": lambda s: {r for r, score in s["fused"] if score >= fitted["fused"]},
        "default (strict or fused)": lambda s: words(s, max(s["groups"], 1))
        | {r for r, score in s["fused"] if score >= fitted["default (strict or fused)"]},
        "cosine": lambda s: {r for r, c in s["cosine"].items() if c >= fitted["cosine"]},
        "top k": lambda s: {r for r, _ in s["fused"][:int(fitted["top k"])]},
    }


def scores(found: list[tuple[str, set[int], set[int]]]) -> dict[str, dict[str, float]]:
    """Pooled precision, recall, F1 and macro F1 per kind (and ``all``) of (kind, matched, relevant) triples."""
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
    return out


def run(index: GoalSearch, queries: list[dict]) -> list[tuple[str, dict, set[int]]]:
    out = []
    for query in queries:
        judged, _ = resolve(index, query["relevant"])
        relevant = {index.store.row[i] for i, grade in judged.items() if grade >= 1}
        out.append((query["kind"], signals(index, query["query"]), relevant))
    return out


def fit(measured, name: str, values: list[float], fitted: dict) -> float:
    """The value of ``name``'s parameter with the best pooled F1 over all queries (ties: the smaller set)."""
    best = None
    for value in values:
        trial = dict(fitted, **{name: value})
        rule = rules(trial)[name]
        f1 = scores([(k, rule(s), rel) for k, s, rel in measured])["all"]["f1"]
        if best is None or f1 > best[0]:
            best = (f1, value)
    return float(best[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", default="/tmp/totals-idx")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "totals_matching.json"))
    args = parser.parse_args()
    with GoalSearch.open(args.index_dir) as index:
        measured = {name: run(index, load_queries(path)) for name, path in SETS.items()}
    fitted = {"fused": 0.5, "default (strict or fused)": 0.5, "cosine": 0.85, "top k": 10}
    for name, values in (("fused", GRID), ("default (strict or fused)", GRID), ("cosine", COSINES), ("top k", TOPS)):
        fitted[name] = fit(measured["dev"], name, values, fitted)
    table = {}
    for set_name, rows in measured.items():
        for rule_name, rule in rules(fitted).items():
            table.setdefault(set_name, {})[rule_name] = scores([(k, rule(s), rel) for k, s, rel in rows])
    shipped = totals_settings()["default_fused_min"]
    report = {"fitted_on": "dev", "fitted": fitted, "shipped_default_fused_min": shipped, "results": table}
    Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    for set_name, by_rule in table.items():
        kinds = [k for k in next(iter(by_rule.values())) if k != "all"] + ["all"]
        print(f"\n{set_name} set ({by_rule['strict']['all']['queries']} queries) — P / R / F1 pooled, macro F1, mean set size")
        print(f"{'rule':32}" + "".join(f"{k:>26}" for k in kinds))
        for rule_name, by_kind in by_rule.items():
            label = rule_name + (f" ({fitted[rule_name]:g})" if rule_name in fitted else "")
            cells = [f"{v['precision']:.2f}/{v['recall']:.2f}/{v['f1']:.2f} {v['macro_f1']:.2f} {v['mean_size']:>5}"
                     for v in (by_kind[k] for k in kinds)]
            print(f"{label:32}" + "".join(f"{c:>26}" for c in cells))
    print(f"\nfitted on dev: {fitted}; shipped default_fused_min {shipped}")


if __name__ == "__main__":
    main()
