"""Red-team runner: the attacks of issues #14 and #28 (reliability rounds two and three), each held or FAILED.

    python scripts/redteam.py                 # everything (about 12 minutes on 2 cores)
    python scripts/redteam.py --kills 5 --lock-seconds 5 --skip-tests   # a quick pass

The fast attacks are tests (``tests/test_attacks.py``, ``tests/test_reliability.py``,
``tests/test_safety.py``); this runner runs them through pytest and reports each as an attack, then
runs the slow ones with real processes:

- the resource attacks of round three (``benchmarks/parse_attacks.py``: nested form XObjects, 300,000
  text operators, a 1 GiB inflate, a page of span cells, a 1 MB aligned line): ``goalsearch parse``
  ends each in one line, within 30 s and 500 MB of the whole process tree;

- ``kill -9`` of a rebuild at random moments: the previous index must stay searchable and
  ``check`` clean, and the next writer must not be blocked;
- six processes hammering the writer lock: never two holders at once;
- searches in this process while another process rebuilds: every search succeeds;
- one long-lived ``GoalSearch`` across updates: semantic and syntax queries still answer;
- (issue #28) an ``index`` under strace with HOME an empty folder: nothing written outside the index and the home
  but temporary files the run removed; a first search (zero-config ``./index``) killed at random moments: the
  next search builds it.

Start the next round from here: add an attack as a test (fast) or a function below (slow).
Exit status 1 when any attack was not held.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "indexer" / "samples"
SMALL = [SAMPLES / "002_745d9ae431b7d0e5.txt", SAMPLES / "003_0488f224aa4533c8.txt"]
CLI = "from goalsearch.cli import main; main()"

ATTACK_TESTS = ["tests/test_attacks.py", "tests/test_reliability.py", "tests/test_safety.py"]

results: list[tuple[str, bool, str]] = []


def report(name: str, held: bool, detail: str = "") -> None:
    results.append((name, held, detail))
    print(f"{'held  ' if held else 'FAILED'}  {name}{(': ' + detail) if detail else ''}", flush=True)


def goalsearch(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=ROOT, capture_output=True, text=True, check=check)


def attack_pytest() -> None:
    """The fast attacks, one test each."""
    done = subprocess.run([sys.executable, "-m", "pytest", *ATTACK_TESTS, "-q", "-rA", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True)
    found = re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", done.stdout, re.M)
    if not found:
        report("pytest attacks", False, done.stdout[-500:] + done.stderr[-500:])
    for status, test in found:
        report(test.split("::", 1)[-1], status == "PASSED")


def attack_parse_budget(base: Path) -> None:
    """Each resource attack of round three: one line, exit 0 or 1, within 30 s and 500 MB (process tree)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from parse_attacks import ATTACKS, held, run

    for name, (file_name, make) in ATTACKS.items():
        path = base / file_name
        path.write_bytes(make())
        result = run(path, timeout=60)
        report(f"parse budget: {name}", held(result),
               f"{result['seconds']} s, {result['peak_rss_mb']} MB, {result['lines']} line(s): {result['message'][:100]}")


def attack_kills(base: Path, kills: int) -> None:
    """kill -9 a rebuild at random moments; the previous index must survive each."""
    from goalsearch.search import GoalSearch, check_index

    index_dir = base / "kills"
    shutil.copytree(base / "index", index_dir)
    before = len(GoalSearch.open(index_dir).records)
    script = ("from goalsearch.indexer import index_paths; "
              f"index_paths([{str(SMALL[0])!r}], {str(index_dir)!r}, rebuild=True)")
    survived = 0
    problems = []
    for number in range(kills):
        process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
        time.sleep(random.uniform(0.3, 8.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        try:
            with GoalSearch.open(index_dir) as index:
                assert len(index.records) in (before, 5), len(index.records)
                assert index.search("运维", limit=3)
            found = check_index(index_dir)
            assert not found, found
            survived += 1
        except Exception as exc:  # noqa: BLE001 - every failure is a finding
            problems.append(f"kill {number}: {type(exc).__name__}: {exc}")
    after = goalsearch("index", str(SMALL[0]), "--index-dir", str(index_dir))
    if after.returncode != 0:
        problems.append(f"the next writer failed: {after.stderr.strip()}")
    report(f"kill -9 of a rebuild at {kills} random moments", not problems, "; ".join(problems[:3]) or
           f"{survived}/{kills} kills left the previous index searchable and check clean")


HAMMER = (ROOT / "tests" / "test_reliability.py").read_text("utf-8").split('HAMMER = """', 1)[1].split('"""', 1)[0]


def attack_lock(base: Path, seconds: float) -> None:
    """Six processes take the lock in a loop; two holders at once is a failure."""
    folder = base / "lock"
    folder.mkdir()
    workers = [subprocess.Popen([sys.executable, "-c", HAMMER, str(folder), str(seconds)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True) for _ in range(6)]
    counts = [tuple(map(int, w.communicate()[0].split() or (0, 0))) for w in workers]
    held, doubles = sum(c[0] for c in counts), sum(c[1] for c in counts)
    report(f"6 processes hammering the lock for {seconds:g} s", doubles == 0 and held > 0,
           f"{held} acquisitions, {doubles} double holders")


def attack_search_during_updates(base: Path, updates: int) -> None:
    """Search in this process while another process rebuilds the index over and over."""
    from goalsearch.search import GoalSearch

    index_dir = base / "busy"
    shutil.copytree(base / "index", index_dir)
    script = ("from goalsearch.indexer import index_paths\n"
              f"for _ in range({updates}): index_paths({[str(p) for p in SMALL]!r}, {str(index_dir)!r}, rebuild=True)")
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    searches, failures = 0, []
    while writer.poll() is None:
        try:
            with GoalSearch.open(index_dir) as index:
                index.search("社保卡", limit=3)
                index.search("name:运维 AND year:2024", mode="bm25", limit=3)
            searches += 1
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{type(exc).__name__}: {exc}")
    report(f"searches while another process rebuilds {updates} times", not failures and writer.returncode == 0,
           f"{searches} searches, {len(failures)} failed" + (f" ({failures[0]})" if failures else ""))


def attack_long_lived(base: Path) -> None:
    """A GoalSearch opened before two updates must still answer every kind of query."""
    from goalsearch.search import GoalSearch

    index_dir = base / "long"
    shutil.copytree(base / "index", index_dir)
    try:
        with GoalSearch.open(index_dir) as index:
            index.search("社保卡", mode="bm25")
            for _ in range(2):
                goalsearch("index", str(SMALL[0]), "--rebuild", "--index-dir", str(index_dir), check=True)
            assert index.search("社保卡", mode="semantic")
            index.search("name:运维 AND year:2024", mode="bm25")
            assert not any("manifest" in p for p in index.problems), index.problems
        report("long-lived GoalSearch across two updates", True)
    except Exception as exc:  # noqa: BLE001
        report("long-lived GoalSearch across two updates", False, f"{type(exc).__name__}: {exc}")


def attack_first_search_killed(base: Path, kills: int) -> None:
    """Issue #28: kill -9 a first search (no --index-dir: it builds ./index from the samples) at a random moment;
    the next search must build it and answer, never refuse ./index for ever."""
    problems = []
    for number in range(kills):
        folder = base / f"first-{number}"
        folder.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "GOALSEARCH_INDEX"}
        first = subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {CLI}",
                                  "search", "社保卡"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(2.0, 15.0))
        first.send_signal(signal.SIGKILL)
        first.wait()
        again = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {CLI}",
                                "search", "社保卡", "--mode", "bm25"], cwd=folder, env=env, capture_output=True, text=True)
        if again.returncode != 0:
            problems.append(f"kill {number}: {again.stderr.strip()[-200:]}")
    report(f"kill -9 of a first search at {kills} random moments", not problems,
           "; ".join(problems[:2]) or "each time the next search built ./index and answered")


WRITES = re.compile(r'^\d+\s+(?:openat\(AT_FDCWD, "([^"]+)", [^)]*O_(?:WRONLY|RDWR|CREAT)'
                    r'|(?:mkdir|creat|unlink|rename|renameat2?|unlinkat|mkdirat)\((?:AT_FDCWD, |\d+, )?"([^"]+)")', re.M)


def attack_writes_outside(base: Path) -> None:
    """Issue #28: an ``index`` run under strace, HOME an empty folder: every file it creates or changes must be in
    the index or the goalsearch home, or be a temporary file the run itself removed (Python's multiprocessing
    socket folder). onnxruntime's telemetry wrote ~/.cache/Microsoft/… on every run."""
    if not shutil.which("strace"):
        report("index writes nothing outside the index and the home", False, "strace is not installed")
        return
    user, index_dir, trace = base / "user", base / "strace-index", base / "strace.txt"
    user.mkdir()
    home = Path(os.environ["GOALSEARCH_HOME"]).resolve()
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e",
                    "trace=openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat",
                    sys.executable, "-c", CLI, "index", str(SMALL[0]), "--index-dir", str(index_dir)],
                   cwd=ROOT, env=dict(os.environ, HOME=str(user)), capture_output=True, text=True)
    written = {next(filter(None, m.groups())) for m in WRITES.finditer(trace.read_text("utf-8", "replace"))}
    outside = sorted(p for p in written if p.startswith("/") and not p.startswith(("/dev/", "/proc/"))
                     and not any(Path(p).resolve().is_relative_to(root) for root in (index_dir.resolve(), home)))
    kept = [p for p in outside if Path(p).exists()] + [str(p) for p in user.rglob("*")]
    report("index writes nothing outside the index and the home", not kept,
           f"left behind: {kept[:3]}" if kept else f"{len(outside)} temporary paths outside, all removed by the run")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lock-seconds", type=float, default=20.0)
    parser.add_argument("--updates", type=int, default=4)
    parser.add_argument("--skip-tests", action="store_true", help="Only the slow attacks.")
    options = parser.parse_args()
    os.environ.setdefault("GOALSEARCH_HOME", str(Path(tempfile.mkdtemp(prefix="goalsearch-home-"))))
    base = Path(tempfile.mkdtemp(prefix="goalsearch-redteam-"))
    try:
        if not options.skip_tests:
            attack_pytest()
        attack_parse_budget(base)
        goalsearch("index", str(SAMPLES), "--index-dir", str(base / "index"), check=True)
        attack_lock(base, options.lock_seconds)
        attack_kills(base, options.kills)
        attack_search_during_updates(base, options.updates)
        attack_long_lived(base)
        attack_writes_outside(base)
        attack_first_search_killed(base, max(1, options.kills // 5))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    failed = [name for name, held, _ in results if not held]
    print(f"\n{len(results)} attacks: {len(results) - len(failed)} held, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
