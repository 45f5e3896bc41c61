"""Document embedding rate of the default model per backend, and on a local Ray with 1 and 2 workers.

    python benchmarks/embed_backends.py [--ray] [--json FILE]

The texts are the ones goalsearch embeds for the sample corpus (every view of every record,
``goalsearch.indexer.storage.vectors.embedded_texts``), in the order a build hands them over: shortest first.
Each backend embeds them once after a warm-up batch; cosines are against the torch vectors.
``--ray`` (needs ``pip install -e '.[cluster]'``) times ``RayEmbedder`` with 1 and 2 actors,
actor start and model load included. Results: ``benchmarks/README.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from goalsearch.indexer import parse_paths  # noqa: E402
from goalsearch.indexer.models import load_embedder  # noqa: E402
from goalsearch.indexer.storage.vectors import embedded_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ray", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    records, _ = parse_paths([ROOT / "indexer" / "samples"])
    texts = sorted(set(embedded_texts(records)), key=lambda text: (len(text), text))
    results = {"records": len(records), "texts": len(texts), "backends": {}, "ray": {}}
    print(f"{len(records)} records, {len(texts)} texts", flush=True)
    reference = None
    for backend, batch in (("torch", None), ("onnx", 16), ("onnx-int8", 16), ("onnx", 1), ("onnx-int8", 1)):
        embedder = load_embedder(backend=backend)
        if batch:
            embedder.batch_size = batch  # texts per onnxruntime call
        embedder.encode_documents(texts[:8])  # loads the model (and exports it the first time)
        start = time.perf_counter()
        vectors = embedder.encode_documents(texts)
        seconds = time.perf_counter() - start
        reference = vectors if reference is None else reference
        cosines = (vectors * reference).sum(axis=1)
        name = backend if batch is None else f"{backend} batch {batch}"
        results["backends"][name] = {"texts_per_s": round(len(texts) / seconds, 1),
                                     "cosine_min": round(float(cosines.min()), 4)}
        print(f"{name:20} {len(texts) / seconds:6.1f} texts/s  cosine to torch ≥ {cosines.min():.4f}", flush=True)
    if args.ray:
        import ray

        from goalsearch.indexer.ray_build import RayEmbedder, start_ray

        start_ray(None)
        for workers in (1, 2):
            start = time.perf_counter()
            RayEmbedder("multilingual-e5-small", "onnx-int8", workers=workers).encode_documents(texts)
            seconds = time.perf_counter() - start
            results["ray"][workers] = {"texts_per_s": round(len(texts) / seconds, 1), "seconds": round(seconds, 1)}
            print(f"ray, {workers} worker(s): {len(texts) / seconds:6.1f} texts/s ({seconds:.1f} s, actor start "
                  "and model load included)", flush=True)
        ray.shutdown()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), "utf-8")


if __name__ == "__main__":
    main()
