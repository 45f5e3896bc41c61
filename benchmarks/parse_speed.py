"""Parse speed per input kind: the five samples as text, PDF, HTML and the other text renderings.

Each sample is rendered as the tests render it (``tests/renderings.py``), then every file is
parsed ``--repeat`` times, in ``--jobs`` processes (one file per task). Prints, per kind:
files, pages (PDF), table rows read, seconds, and files/s, pages/s, rows/s.

    python benchmarks/parse_speed.py --jobs 2 --repeat 3 --out benchmarks/results/parse_speed.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import renderings  # noqa: E402
from goalsearch.indexer import parse  # noqa: E402

KINDS = ("text", "pdf", "html", "cells", "markdown", "aligned")


def render_all(folder: Path) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    for sample in sorted((ROOT / "indexer" / "samples").glob("*.txt")):
        text = sample.read_text("utf-8")
        files["text"].append(sample)
        renderings.to_pdf(text, folder / f"{sample.stem}.pdf")
        files["pdf"].append(folder / f"{sample.stem}.pdf")
        (folder / f"{sample.stem}.html").write_text(renderings.to_html(text), "utf-8")
        files["html"].append(folder / f"{sample.stem}.html")
        for kind, render in renderings.RENDERINGS.items():
            (folder / f"{sample.stem}.{kind}.txt").write_text(render(text), "utf-8")
            files[kind].append(folder / f"{sample.stem}.{kind}.txt")
    return files


def parse_one(path: Path) -> tuple[int, int, int]:
    records, report = parse(path)
    return len(records), report.rows_read, report.page_count or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="processes parsing files at once")
    parser.add_argument("--repeat", type=int, default=3, help="how often each file is parsed")
    parser.add_argument("--out", type=Path, help="write the results as JSON here too")
    args = parser.parse_args()

    results = {"jobs": args.jobs, "repeat": args.repeat, "cpus": os.cpu_count(), "kinds": {}}
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs) as pool:
        files = render_all(Path(tmp))
        list(pool.map(parse_one, files["text"]))  # warm the workers: imports, cpca, table rules
        print(f"{'kind':9} {'files':>5} {'pages':>6} {'rows':>6} {'seconds':>8} {'files/s':>8} {'pages/s':>8} {'rows/s':>8}")
        for kind in KINDS:
            tasks = files[kind] * args.repeat
            start = time.perf_counter()
            outcome = list(pool.map(parse_one, tasks))
            seconds = time.perf_counter() - start
            pages = sum(o[2] for o in outcome)
            rows = sum(o[1] for o in outcome)
            row = {"files": len(tasks), "pages": pages, "rows": rows, "records": sum(o[0] for o in outcome),
                   "seconds": round(seconds, 3), "files_per_s": round(len(tasks) / seconds, 2),
                   "pages_per_s": round(pages / seconds, 1) if pages else None, "rows_per_s": round(rows / seconds)}
            results["kinds"][kind] = row
            pages_per_s = f"{row['pages_per_s']:8.1f}" if pages else f"{'':>8}"
            print(f"{kind:9} {len(tasks):5d} {pages or '':>6} {rows:6d} {seconds:8.2f} {row['files_per_s']:8.2f} "
                  f"{pages_per_s} {row['rows_per_s']:8d}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
