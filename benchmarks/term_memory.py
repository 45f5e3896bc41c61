"""Resident memory across the steps of the term stage (``write_terms``) for N synthetic records.

Issue #32: at a million records the term stage was the build's peak. This runs ``write_terms`` alone
(it cuts the texts itself, as an update does; a full build hands it Whoosh's tokens) and prints, at
each step (a field's triplets taken, its CSC made, each kind's weights summed, written), the RSS then
and the highest RSS sampled every 20 ms since the step before.

    python benchmarks/term_memory.py 100000 /tmp/terms100k      # ~1.5 min, ~1.6 GB
    python benchmarks/term_memory.py 1000000 /tmp/terms1m       # ~15 min, ~15 GB
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from bench import synthetic_records  # this tree's goalsearch (bench.py imports it so)

from goalsearch.indexer.storage import terms

STEPS = ((terms, "_csc"), (terms, "summed"), (terms, "write_summed"), (terms, "_drop_unused"),
         (terms.Triplets, "take"))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


class Sampler:
    """The highest RSS seen since the last ``mark``, sampled by a daemon thread."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.peak = rss_mb()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def mark(self, label: str) -> None:
        now = rss_mb()
        print(f"{time.perf_counter() - self.started:8.1f} s  {label:28s} RSS {now:8.0f} MB   "
              f"highest since the last line {max(self.peak, now):8.0f} MB", flush=True)
        self.peak = now


def traced(sampler: Sampler, owner, name: str) -> None:
    """Replace ``owner.name`` by a function that marks before and after calling it."""
    function = getattr(owner, name)

    def marked(*args, **kwargs):
        sampler.mark(f"before {name}")
        result = function(*args, **kwargs)
        sampler.mark(f"after {name}")
        return result

    setattr(owner, name, marked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", type=int)
    parser.add_argument("out", type=Path, help="a new folder for the term files")
    args = parser.parse_args()
    args.out.mkdir(parents=True)
    sampler = Sampler()
    records, _ = synthetic_records(args.projects)
    sampler.mark("records made")
    for owner, name in STEPS:
        traced(sampler, owner, name)
    terms.write_terms(args.out, records, ())
    sampler.mark("end")


if __name__ == "__main__":
    main()
