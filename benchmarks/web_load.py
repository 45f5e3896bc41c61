"""A bounded load test of ``goalsearch serve`` on loopback: N clients for S seconds, then it stops by itself.

    python benchmarks/web_load.py --index-dir /tmp/sample-index                      # 8 clients, 30 s
    python benchmarks/web_load.py --index-dir /tmp/sample-index --rebuild indexer/samples --workers 2
    python benchmarks/web_load.py --index-dir /tmp/idx100k --synthetic 100000   # builds it first (bench.py's corpus)

It starts ``python -m goalsearch serve`` on 127.0.0.1 (a free port; never another address) as a child
process, and runs ``--clients`` threads, each a keep-alive HTTP client asking, in turn, for the search
page (results, five facets and the totals chart), ``/api/search`` and ``/api/totals`` with a query of
``benchmarks/dev_queries.json``, and a project page. It reports requests per second, p50 and p95 latency
per kind of request, and every failed request (a status other than 200, or no answer).

With ``--rebuild PATH``, the index is first copied to a scratch folder (the one given is never
written), and ``goalsearch index PATH --rebuild`` runs against the copy while the clients ask; the
report says how many requests were answered while it ran, how many of them failed, and whether the
server then served the new generation (without a restart). The clients keep asking until both the
seconds and the rebuild are over, so such a run lasts as long as the rebuild if that is longer.

The run is bounded: at most 120 s and 32 clients; the server is stopped (by its process id) at the end,
whatever happened. Timings depend on the machine: 2 shared cores here (``benchmarks/README.md``).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS, MAX_CLIENTS = 120, 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def wait_until_up(port: int, server: subprocess.Popen, seconds: float = 300) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode}) before answering")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if get(connection, "/api/stats")[0] == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer within {seconds:.0f} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Load:
    """The clients: each thread asks in turn until ``stop``; every answer's kind, status, time and moment is kept."""

    def __init__(self, port: int, queries: list[str], ids: list[str], clients: int) -> None:
        self.port, self.queries, self.ids, self.clients = port, queries, ids, clients
        self.results: list[tuple[str, int, float, float]] = []  # (kind, status, seconds, finished at)
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def paths(self, rng: random.Random):
        while True:
            query = rng.choice(self.queries)
            yield "page", "/?" + urlencode({"q": query})
            yield "api_search", "/api/search?" + urlencode({"q": query, "limit": 10})
            yield "api_totals", "/api/totals?" + urlencode({"q": query, "by": "year"})
            yield "project", f"/project/{rng.choice(self.ids)}"

    def client(self, number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for kind, path in self.paths(rng):
            if self.stop.is_set():
                break
            started = time.perf_counter()
            try:
                status, _ = get(connection, path)
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            finished = time.perf_counter()
            with self._lock:
                self.results.append((kind, status, finished - started, finished))

    def run(self, seconds: float, during=None) -> tuple[float, float, dict | None]:
        threads = [threading.Thread(target=self.client, args=(n,)) for n in range(self.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        window = during() if during else None
        time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
        self.stop.set()
        for thread in threads:
            thread.join()
        return started, time.perf_counter(), window


def synthetic_index(projects: int, index_dir: Path) -> None:
    """Build ``bench.py``'s synthetic corpus of ``projects`` records at ``index_dir`` (vectors composed from the
    samples' real ones, as ``bench.py`` builds it)."""
    if index_dir.exists() and any(index_dir.iterdir()):
        raise SystemExit(f"--synthetic builds a new index: {index_dir} is not empty")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    records, parts = bench.synthetic_records(projects)
    bench.build_index(records, index_dir, embedder=bench.ComposedEmbedder(parts, bench.load_embedder()))


def rebuild(paths: list[str], index_dir: Path, env: dict) -> dict:
    """``goalsearch index PATHS --rebuild`` against ``index_dir``; when it started and ended, and its exit status."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "goalsearch", "index", *paths, "--rebuild", "--index-dir", str(index_dir)],
                          env=env, capture_output=True, text=True)
    return {"started": started, "ended": time.perf_counter(), "exit": done.returncode,
            "last_line": (done.stderr.strip().splitlines() or [""])[-1]}


def memory(server_pid: int) -> dict:
    """Resident (RSS) and proportional (PSS: shared pages split among their users) MB of the server's processes:
    where the workers share the memory-mapped index, their PSS sum stays well below their RSS sum."""
    pids = [server_pid] + [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == server_pid]
    total = {"processes": len(pids), "rss_mb": 0.0, "pss_mb": 0.0}
    for pid in pids:
        try:
            for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("Rss", "Pss"):
                    total[f"{name.lower()}_mb"] += int(value.split()[0]) / 1024
        except OSError:
            continue
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in total.items()}


def _parent(proc: Path) -> int | None:
    try:
        return int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def report(load: Load, started: float, ended: float, window: dict | None) -> dict:
    results = load.results
    kinds = sorted({kind for kind, *_ in results})
    summary = {"clients": load.clients, "seconds": round(ended - started, 1), "requests": len(results),
               "requests_per_second": round(len(results) / (ended - started), 1),
               "failed": sum(status != 200 for _, status, _, _ in results),
               "p50_ms": round(1000 * percentile([s for _, _, s, _ in results], 0.5), 1),
               "p95_ms": round(1000 * percentile([s for _, _, s, _ in results], 0.95), 1), "by_kind": {}}
    for kind in kinds:
        times = [s for k, _, s, _ in results if k == kind]
        summary["by_kind"][kind] = {"requests": len(times), "p50_ms": round(1000 * percentile(times, 0.5), 1),
                                    "p95_ms": round(1000 * percentile(times, 0.95), 1),
                                    "failed": sum(st != 200 for k, st, _, _ in results if k == kind)}
    if window:
        inside = [status for _, status, _, at in results if window["started"] <= at <= window["ended"]]
        summary["rebuild"] = {"seconds": round(window["ended"] - window["started"], 1), "exit": window["exit"],
                              "requests_during": len(inside), "failed_during": sum(s != 200 for s in inside),
                              "index": window["last_line"]}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", required=True, type=Path, help="the index to serve (never written)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--rebuild", nargs="+", metavar="PATH", help="rebuild a copy of the index from PATH under load")
    parser.add_argument("--synthetic", type=int, metavar="N", help="first build a synthetic index of N projects at --index-dir")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.seconds <= MAX_SECONDS:
        raise SystemExit(f"--clients 1-{MAX_CLIENTS} and --seconds 1-{MAX_SECONDS}")
    if args.synthetic:
        synthetic_index(args.synthetic, args.index_dir)
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    scratch = Path(tempfile.mkdtemp(prefix="web-load-"))
    index_dir = args.index_dir
    if args.rebuild:
        index_dir = scratch / "index"
        shutil.copytree(args.index_dir, index_dir)
    from goalsearch.search import GoalSearch

    with GoalSearch.open(index_dir) as index:
        ids = [r.id for r in index.store.by_amount(None, 200)]
        generation = index.generation.name
    queries = [q["query"] for q in json.loads((ROOT / "benchmarks" / "dev_queries.json").read_text("utf-8"))["queries"]]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "goalsearch", "serve", "--index-dir", str(index_dir), "--host",
                               "127.0.0.1", "--port", str(port), "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(port, server)
        # each worker's first queries load the model, the vectors and the families: not counted
        warm = Load(port, queries, ids, 2 * args.workers)
        warm.run(min(20.0, args.seconds))
        load = Load(port, queries, ids, args.clients)
        during = (lambda: rebuild(args.rebuild, index_dir, env)) if args.rebuild else None
        summary = report(load, *load.run(args.seconds, during))
        summary["memory"] = memory(server.pid)
        if args.rebuild:
            status, body = get(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "/api/stats")
            summary["rebuild"]["served_new_generation"] = status == 200 and json.loads(body)["generation"] != generation
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    summary.update(workers=args.workers, index=str(args.index_dir))
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")
    if summary["failed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
