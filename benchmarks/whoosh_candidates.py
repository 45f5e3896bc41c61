"""Compare the Whoosh distributions on our corpus: warnings on import and use, build time, query time, size.

Run once per candidate, each in its own virtualenv holding only jieba and that candidate:

    python -m venv /tmp/w && /tmp/w/bin/pip install jieba whoosh3
    /tmp/w/bin/python benchmarks/whoosh_candidates.py RECORDS.json

RECORDS.json is a list of {"id", "name", "goal"} (dump it with `goalsearch parse indexer/samples --format json`).
The analyzer here is a minimal jieba tokenizer, the same for every candidate, so only Whoosh differs.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from importlib.metadata import PackageNotFoundError, version

QUERIES = ["政务云运维", "社保卡制卡", "等保测评", "机房供配电", "大模型", "12345热线", "信创改造", "穗智管", "一网通办",
           "政务外网", "物业管理费", "免学费财政补助", "信息化运维", "网络安全", "数据治理"]


caught: list[str] = []
warnings.simplefilter("always")
warnings.showwarning = lambda message, category, *a, **k: caught.append(f"{category.__name__}: {message}")

import jieba  # noqa: E402
from whoosh import index, qparser  # noqa: E402
from whoosh.analysis import Token, Tokenizer  # noqa: E402
from whoosh.fields import ID, TEXT, Schema  # noqa: E402


class Jieba(Tokenizer):
    """jieba search-mode tokens with Whoosh positions and offsets."""

    def __call__(self, value, positions=False, chars=False, start_pos=0, start_char=0, mode="", **kw):
        token = Token(positions, chars, mode=mode, **kw)
        for pos, (word, start, end) in enumerate(jieba.tokenize(value, mode="search")):
            token.text, token.boost, token.stopped = word, 1.0, False
            token.pos, token.startchar, token.endchar = start_pos + pos, start_char + start, start_char + end
            yield token


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    directory = tempfile.mkdtemp()
    schema = Schema(id=ID(stored=True), name=TEXT(analyzer=Jieba()), goal=TEXT(analyzer=Jieba()))
    started = time.perf_counter()
    ix = index.create_in(directory, schema)
    writer = ix.writer()
    for r in records:
        writer.add_document(id=r["id"], name=r["name"], goal=r["goal"])
    writer.commit(optimize=True)
    build = time.perf_counter() - started
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    parser = qparser.MultifieldParser(["name", "goal"], ix.schema, group=qparser.OrGroup)
    queries = [parser.parse(q) for q in QUERIES]
    with ix.searcher() as searcher:
        for q in queries:
            searcher.search(q, limit=10)
        started = time.perf_counter()
        rounds = 20
        for _ in range(rounds):
            for q in queries:
                searcher.search(q, limit=10)
        per_query = (time.perf_counter() - started) / (rounds * len(queries))
    names = ("whoosh", "whoosh3", "whoosh-reloaded", "whoosh-ng", "Whoosh")
    installed = {}
    for name in names:
        try:
            installed[name] = version(name)
        except PackageNotFoundError:
            pass
    print(json.dumps({"packages": installed, "records": len(records), "build_s": round(build, 2),
                      "index_kib": size // 1024, "query_ms": round(per_query * 1000, 3),
                      "warnings": sorted(set(w.splitlines()[0][:160] for w in caught if "jieba" not in w))}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
