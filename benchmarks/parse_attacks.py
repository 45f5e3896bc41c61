"""Hostile documents against the parse budget: each must end in one line, within 30 s and 500 MB.

    python benchmarks/parse_attacks.py [--json benchmarks/results/parse_attacks.json]
    python benchmarks/parse_attacks.py --tree /path/to/older/checkout --timeout 60   # the baseline

Writes each attack file (the resource attacks of issue #28: a PDF of form XObjects nested ten wide and
eight deep, a PDF page of 300,000 text operators, a PDF whose content stream inflates to 1 GiB, an HTML
table of ``rowspan``/``colspan`` cells, a 1 MB line of space-aligned cells) into a temporary folder, runs
``goalsearch parse`` on it in a fresh process, and reports the exit status, the first line of stderr, the
wall time and the peak resident memory of the whole process tree (the command and the child that parses,
sampled from /proc every 10 ms). Not a test: timings depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIB = 1 << 30


def pdf(objects: list[bytes]) -> bytes:
    """A PDF of the given objects (1: catalog, 2: pages …) with a correct cross-reference table."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data, 9)
    return f"<< {extra} /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed + b"\nendstream"


def page(contents: bytes, resources: str = "") -> list[bytes]:
    return [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> {resources} >> "
            f"/Contents 5 0 R >>".encode(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", contents]


def nested_forms(depth: int = 8, width: int = 10) -> bytes:
    """Each form XObject draws the next one ``width`` times: ``width ** depth`` draws from a few KB."""
    objects = page(stream(b"/X Do"), "/XObject << /X 6 0 R >>")
    for level in range(depth):
        number = 6 + level
        body = b"BT /F1 1 Tf (a) Tj ET" if level == depth - 1 else b"/X Do " * width
        resources = "" if level == depth - 1 else f"/Resources << /XObject << /X {number + 1} 0 R >> >>"
        objects.append(stream(body, f"/Type /XObject /Subtype /Form /BBox [0 0 10 10] {resources}"))
    return pdf(objects)


def many_operators(count: int = 300_000) -> bytes:
    return pdf(page(stream(b"BT /F1 1 Tf " + b"1 0 0 1 10 10 Tm (a) Tj " * count + b"ET")))


def inflate_bomb(size: int = GIB) -> bytes:
    """A content stream of ``size`` spaces, compressed in chunks (a megabyte or so on disk)."""
    packer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    packed = b"".join(packer.compress(chunk) for _ in range(size // len(chunk))) + packer.flush()
    body = f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed + b"\nendstream"
    return pdf(page(body))


def span_table(rows: int = 400, cells: int = 60) -> bytes:
    row = "<tr>" + "<td rowspan='100' colspan='100'>项目</td>" * cells + "</tr>"
    return f"<html><body><table>{row * rows}</table></body></html>".encode()


def long_aligned_line(size: int = 1 << 20) -> bytes:
    cell = "项目名称  "
    line = cell * (size // len(cell.encode()))
    return f"部门预算项目支出及其他支出预算表\n{line}\n{line}\n".encode()


ATTACKS = {
    "PDF: form XObjects nested 8 deep, 10 wide": ("nested.pdf", nested_forms),
    "PDF: 300,000 text operators on a page": ("operators.pdf", many_operators),
    "PDF: a content stream inflating to 1 GiB": ("bomb.pdf", inflate_bomb),
    "HTML: 24,000 cells of rowspan=100 colspan=100": ("spans.html", span_table),
    "text: a 1 MB line of space-aligned cells": ("aligned.txt", long_aligned_line),
}


def tree_rss(root: int) -> int:
    """Resident memory (bytes) of ``root`` and every process below it."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def run(path: Path, tree: Path = ROOT, timeout: float = 600) -> dict:
    """``goalsearch parse`` of ``tree`` on ``path``: exit status, seconds, peak tree memory, first stderr line;
    killed (with the whole process group) after ``timeout`` seconds."""
    started = time.perf_counter()
    # a checkout from before the package (no __main__.py) runs its cli.py; this one runs the installed goalsearch
    command = [sys.executable, "-m", "goalsearch"] if (tree / "__main__.py").exists() else [sys.executable, "cli.py"]
    process = subprocess.Popen([*command, "parse", str(path), "--format", "json"], cwd=tree,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    peak, killed = 0, False
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.01)
        if time.perf_counter() - started > timeout and not killed:
            os.killpg(process.pid, 9)
            killed = True
    stderr = process.stderr.read().decode("utf-8", "replace").strip().splitlines()
    message = f"killed after {timeout:g} s" if killed else stderr[0] if stderr else ""
    return {"exit_status": process.returncode, "seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(peak / (1 << 20), 1), "message": message, "lines": len(stderr)}


def held(result: dict) -> bool:
    """The issue's bar: one line at most, exit 0 or 1 (no crash, no kill), within 30 s and 500 MB."""
    return result["seconds"] <= 30 and result["peak_rss_mb"] <= 500 and result["exit_status"] in (0, 1) \
        and result["lines"] <= 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose cli.py parses (default: this one)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before an attack's process is killed")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (file_name, make) in ATTACKS.items():
            path = Path(folder) / file_name
            path.write_bytes(make())
            result = run(path, args.tree, args.timeout)
            result["file_kb"] = round(path.stat().st_size / 1024, 1)
            results[name] = result
            print(f"{'held  ' if held(result) else 'FAILED'}  {name}: {result['file_kb']} KB, exit {result['exit_status']}, "
                  f"{result['seconds']} s, {result['peak_rss_mb']} MB: {result['message'][:140]}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
