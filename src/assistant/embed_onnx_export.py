"""The ONNX export of an embedding model folder: made once, locally, checked against torch, then kept.

sentence-transformers' own ONNX backend (`backend="onnx"`) needs `optimum-onnx`, whose every release
pins transformers < 4.58 and fails to import with transformers 5 — so it cannot run here. This does
what it does without optimum: torch.onnx exports the Transformer module of the local model folder,
onnxruntime quantises it for onnx-int8 (`quantize_dynamic`, optimum's per-channel symmetric
"avx512_vnni"/"arm64" recipe), and the export is kept only if its pooled vectors of a few check
sentences agree with torch's. It goes to `<cache_dir>/onnx/<model>-<backend>-<key>/` (no network),
where every later process finds it. Mean pooling + normalisation are done in numpy (`pool`), exactly
as the model's Pooling/Normalize modules do, both for that check and by the encoder.

Exporting needs torch, transformers and `onnx`, imported only when an export is made. Running the
export is embed_onnx.py's (onnxruntime and tokenizers only).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import EmbeddingError

MODEL_FILE = "model.onnx"
INFO_FILE = "export.json"  # written last: a folder without it is a half export

# Bumped whenever the export recipe changes, so that old exports are not reused.
EXPORT_FORMAT = 1
# Dynamic int8 quantisation recipe (optimum's AutoQuantizationConfig.avx512_vnni / .arm64 for dynamic
# quantisation: per-channel symmetric int8 weights, uint8 activations, all integer ops of onnxruntime).
# On this machine (AVX512-VNNI) it is ~1.5x faster than the "avx2" recipe (uint8 weights) at the same
# agreement with torch (mean cosine 0.991); per-tensor weights were as fast but only 0.91 mean cosine.
INT8_RECIPE: dict[str, Any] = {
    "weight_type": "QInt8", "per_channel": True, "reduce_range": False, "weight_symmetric": True,
    "ops": ["MatMul", "Attention", "Gather", "EmbedLayerNormalization"],
}
# The export is kept only if it agrees with torch on these sentences (cosine of the pooled vectors).
_CHECK_SENTENCES = [
    "Hvem finansierer produktet, og hvordan betales der for drift og videreudvikling?",
    "Log ind som superuser og vælg en computer i listen.",
    "OS2borgerPC er en sikker og nem borger-pc til biblioteker og borgerservice.",
    "How do I reset the password of a citizen PC?",
    "Kort.",
]
_MIN_AGREEMENT = {"onnx": 0.9999, "onnx-int8": 0.95}


class ModelLayout:
    """What the ONNX path needs to know of a sentence-transformers folder, read from its JSON files."""

    def __init__(self, name: str, location: str) -> None:
        root = Path(location)
        if not (root / "config.json").is_file():
            raise EmbeddingError(
                f"The ONNX embedding backends need the model {name!r} as a local folder with config.json; "
                f"{location} is not one (use embedding_backend=torch, or a model this machine has)")
        if not (root / "tokenizer.json").is_file():
            raise EmbeddingError(f"The ONNX embedding backends need {root / 'tokenizer.json'} (a fast tokenizer)")
        self.root = root
        config = _read_json(root / "config.json")
        modules = _read_json(root / "modules.json") if (root / "modules.json").is_file() else None
        pooling_dir = root / "1_Pooling"
        if modules is not None:
            kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
            if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
                raise EmbeddingError(
                    f"Model {name!r} has modules {kinds}; the ONNX backends handle Transformer → Pooling "
                    "(→ Normalize) only: use embedding_backend=torch")
            pooling_dir = root / modules[1].get("path", "1_Pooling")
        pooling = _read_json(pooling_dir / "config.json") if (pooling_dir / "config.json").is_file() else {}
        if pooling.get("pooling_mode_cls_token"):
            self.pooling = "cls"
        elif pooling.get("pooling_mode_mean_tokens", True) and not any(
                pooling.get(k) for k in ("pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                                         "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")):
            self.pooling = "mean"
        else:
            raise EmbeddingError(f"Model {name!r} pools with {pooling}; the ONNX backends do mean or CLS "
                                 "pooling only: use embedding_backend=torch")
        st_config = _read_json(root / "sentence_bert_config.json") if (root / "sentence_bert_config.json").is_file() else {}
        limit = int(config.get("max_position_embeddings", 512))
        self.max_tokens = min(int(st_config.get("max_seq_length") or limit), limit)
        self.lowercase = bool(st_config.get("do_lower_case", False))
        self.dimension = int(pooling.get("word_embedding_dimension") or config["hidden_size"])
        self.config_text = (root / "config.json").read_text(encoding="utf-8")

    def fingerprint(self) -> dict:
        """Identifies the weights without reading them: file names, sizes and the model config."""
        weights = sorted((p.name, p.stat().st_size) for p in self.root.iterdir()
                         if p.suffix in (".safetensors", ".bin") and p.is_file())
        return {"config": self.config_text, "weights": weights, "pooling": self.pooling,
                "max_tokens": self.max_tokens, "lowercase": self.lowercase}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def onnx_export_dir(cache_dir: Path, name: str, backend: str, layout: ModelLayout) -> Path:
    """`<cache_dir>/onnx/<model>-<backend>-<key>`: the key covers model, weights and export recipe."""
    recipe = {"format": EXPORT_FORMAT, "backend": backend, "model": name, "layout": layout.fingerprint(),
              "int8": INT8_RECIPE if backend == "onnx-int8" else None}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    slug = re.sub(r"[^\w.-]+", "_", Path(name).name if Path(name).is_absolute() else name).strip("_") or "model"
    return Path(cache_dir) / "onnx" / f"{slug}-{backend}-{key}"


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Token vectors → one normalised vector per text (sentence-transformers' Pooling + Normalize)."""
    if mode == "cls":
        vectors = hidden[:, 0]
    else:
        weights = mask[..., None].astype(hidden.dtype)
        vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def ensure_onnx_export(name: str, backend: str, layout: ModelLayout, folder: Path) -> None:
    """Export (and for onnx-int8 quantise) the model into `folder` unless a finished export is there.

    One process exports at a time (a file lock beside the folder); the files are written to a temporary
    folder and renamed into place, so a crash never leaves a half export to be reused.
    """
    if (folder / INFO_FILE).is_file():
        return
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / INFO_FILE).is_file():
            return
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        work.chmod(0o755)  # mkdtemp makes it private; a serving process may run as another user
        try:
            info = _export(name, backend, layout, work)
            (work / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
            if folder.exists():  # a half export without export.json
                shutil.rmtree(folder)
            os.replace(work, folder)
        except EmbeddingError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise EmbeddingError(f"Cannot export embedding model {name!r} to ONNX ({backend}): {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _export(name: str, backend: str, layout: ModelLayout, work: Path) -> dict:
    import time
    import warnings

    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    started = time.perf_counter()
    # Eager attention: the traced graph then takes the padding mask as data (SDPA paths may drop an
    # all-ones mask while tracing, which would break padded batches).
    model = AutoModel.from_pretrained(str(layout.root), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    tokenizer = Tokenizer.from_file(str(layout.root / "tokenizer.json"))
    tokenizer.enable_truncation(layout.max_tokens)
    tokenizer.enable_padding(pad_id=int(model.config.pad_token_id or 0))
    check = [t.lower() for t in _CHECK_SENTENCES] if layout.lowercase else _CHECK_SENTENCES
    encodings = tokenizer.encode_batch(check)  # padded: the dummy input has a mask with zeros
    ids = torch.tensor([e.ids for e in encodings])
    mask = torch.tensor([e.attention_mask for e in encodings])
    types = torch.tensor([e.type_ids for e in encodings])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = work / (MODEL_FILE if backend == "onnx" else "model_fp32.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
        reference = pool(Encoder(model)(ids, mask, types).numpy(), mask.numpy(), layout.pooling)
        torch.onnx.export(
            Encoder(model), (ids, mask, types), str(fp32), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17, dynamo=False, do_constant_folding=True,
        )
    target = work / MODEL_FILE
    if backend == "onnx-int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _quiet_root_logger():  # its "consider pre-processing" advice; the result is checked below
            quantize_dynamic(
                fp32, target, op_types_to_quantize=INT8_RECIPE["ops"], per_channel=INT8_RECIPE["per_channel"],
                reduce_range=INT8_RECIPE["reduce_range"], weight_type=getattr(QuantType, INT8_RECIPE["weight_type"]),
                extra_options={"WeightSymmetric": INT8_RECIPE["weight_symmetric"]},
            )
        fp32.unlink()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()}
    inputs = {i.name for i in session.get_inputs()}
    got = pool(session.run(None, {k: v for k, v in feed.items() if k in inputs})[0], mask.numpy(), layout.pooling)
    agreement = float((got * reference).sum(axis=1).min())
    if agreement < _MIN_AGREEMENT[backend]:
        raise EmbeddingError(
            f"The {backend} export of {name!r} disagrees with torch (cosine {agreement:.4f} < "
            f"{_MIN_AGREEMENT[backend]}); use embedding_backend=torch")
    import onnx

    return {"model": name, "location": str(layout.root), "backend": backend, "format": EXPORT_FORMAT,
            "int8": INT8_RECIPE if backend == "onnx-int8" else None, "min_cosine_vs_torch": round(agreement, 6),
            "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
            "seconds": round(time.perf_counter() - started, 2)}


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
