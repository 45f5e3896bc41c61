"""Bytes on disk of an index's current generation, per file and per part (issue #32's disk item).

    python benchmarks/index_sizes.py INDEX_DIR [--json OUT]

Parts: ``terms`` (the term matrices: per-field counts and the summed weights, each also shown),
``records.db``, ``fulltext`` (Whoosh), ``vectors`` (``vectors.npy`` and the IVF), the rest.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def sizes(index_dir: Path) -> dict:
    """Per-file bytes of the current generation, and sums per part."""
    generation = index_dir / (index_dir / "CURRENT").read_text().strip()
    files = {str(p.relative_to(generation)): p.stat().st_size for p in sorted(generation.rglob("*")) if p.is_file()}
    parts: dict[str, int] = {}
    for name, size in files.items():
        if name.startswith("terms/"):
            kind = name.split("/")[1].split(".")[0]
            part = "terms: per-field counts" if name.endswith(".counts.npy") else \
                "terms: summed weights" if kind in ("words", "grams") else \
                "terms: per-field counts" if name.endswith(("indptr.npy", "indices.npy", "data.npy", ".npz")) else "terms: other"
            parts["terms"] = parts.get("terms", 0) + size
        elif name.startswith("fulltext/"):
            part = "fulltext"
        elif name.startswith("vectors"):
            part = "vectors"
        elif name == "records.db":
            part = "records.db"
        else:
            part = "other"
        parts[part] = parts.get(part, 0) + size
    parts["total"] = sum(files.values())
    return {"generation": generation.name, "parts_bytes": parts, "files_bytes": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--json", type=Path, help="write the sizes here too")
    args = parser.parse_args()
    found = sizes(args.index_dir)
    for part, size in sorted(found["parts_bytes"].items(), key=lambda item: -item[1]):
        print(f"{part:26s} {size / 1e6:10.1f} MB")
    if args.json:
        args.json.write_text(json.dumps(found, indent=1), "utf-8")


if __name__ == "__main__":
    main()
