"""What a new user's first search costs: wall time, peak memory of the process tree, and the disk it leaves.

    python benchmarks/first_run.py [--runs 2] [--json benchmarks/results/first_run.json]

Each run starts from nothing, as the README's quickstart does: an empty working folder, an empty
``GOALSEARCH_HOME`` (the converted model goes there) and an empty ``HOME``; it runs
``python -m goalsearch search 政务云运维``, which converts the bundled model and builds ``./index`` from the
samples, samples the resident memory of the whole process tree every 50 ms (the parse workers included),
then a second search in the same folder (the warm case), and lists every file the home holds with its size,
so a file that is never read shows up. Not a test: timings depend on how busy the machine is, so say so
beside the numbers (``--note``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from parse_attacks import tree_rss

QUERY = "政务云运维"


def disk(folder: Path) -> dict[str, int]:
    """Bytes of each file under ``folder``, by path relative to it."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def timed(command: list[str], cwd: Path, env: dict) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.05)
    stderr = process.stderr.read().decode("utf-8", "replace")
    return {"exit_status": process.returncode, "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(peak / (1 << 20)), "stderr_lines": len(stderr.splitlines())}


def first_run() -> dict:
    with tempfile.TemporaryDirectory(prefix="goalsearch-first-run-") as scratch:
        root = Path(scratch)
        work, home, user_home = root / "work", root / "gshome", root / "home"
        for folder in (work, home, user_home):
            folder.mkdir()
        env = {**os.environ, "GOALSEARCH_HOME": str(home), "HOME": str(user_home)}
        env.pop("GOALSEARCH_INDEX", None)
        command = [sys.executable, "-m", "goalsearch", "search", QUERY]
        first = timed(command, work, env)
        second = timed(command, work, env)
        home_files, index_files = disk(home), disk(work / "index")
        return {"first": first, "second": second,
                "home_mb": round(sum(home_files.values()) / (1 << 20)),
                "index_mb": round(sum(index_files.values()) / (1 << 20), 1),
                "home_files": {name: round(size / (1 << 20), 1) for name, size in home_files.items()
                               if size >= 1 << 20}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--note", default="", help="how busy the machine was (written beside the numbers)")
    parser.add_argument("--json", help="append the results here")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    runs = [first_run() for _ in range(args.runs)]
    result = {"note": args.note, "load_before": os.getloadavg()[0], "runs": runs}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        path = Path(args.json)
        previous = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps(previous + [result], ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
