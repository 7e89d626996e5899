"""The ONNX export of an embedding model folder: made once, locally, checked against torch, then kept.

sentence-transformers' own ONNX backend (`backend="onnx"`) needs `optimum-onnx`, whose every release
pins transformers < 4.58 and fails to import with transformers 5 — so it cannot run here. This does
what it does without optimum: torch.onnx exports the Transformer module of the local model folder,
onnxruntime quantises it for onnx-int8 (`quantize_dynamic`, optimum's per-channel symmetric
"avx512_vnni"/"arm64" recipe), and the export is kept only if its pooled vectors of a few check
sentences agree with torch's. It goes to `<model cache>/onnx/<model>-<backend>-<key>/` (model_cache.py:
one folder per environment; no network), where every later process finds it. Mean pooling +
normalisation are done in numpy (`pool`), exactly as the model's Pooling/Normalize modules do, both for
that check and by the encoder.

The export runs in a child process (onnx_build.py, which needs torch, transformers and `onnx`),
so its memory is returned when it ends and the process that embeds never imports torch. Running the
export is onnx_encoder.py's (onnxruntime and tokenizers only).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed import model_cache
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
CHECK_SENTENCES = [
    "Hvem finansierer produktet, og hvordan betales der for drift og videreudvikling?",
    "Log ind som superuser og vælg en computer i listen.",
    "OS2borgerPC er en sikker og nem borger-pc til biblioteker og borgerservice.",
    "How do I reset the password of a citizen PC?",
    "Kort.",
]
MIN_AGREEMENT = {"onnx": 0.9999, "onnx-int8": 0.95}
FAILED = "export failed"  # how the child process's one-line error starts (onnx_build.py)


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


def onnx_export_dir(model_cache_dir: Path, name: str, backend: str, layout: ModelLayout) -> Path:
    """`<model cache>/onnx/<model>-<backend>-<key>`: the key covers model, weights and export recipe."""
    recipe = {"format": EXPORT_FORMAT, "backend": backend, "model": name, "layout": layout.fingerprint(),
              "int8": INT8_RECIPE if backend == "onnx-int8" else None}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    slug = re.sub(r"[^\w.-]+", "_", Path(name).name if Path(name).is_absolute() else name).strip("_") or "model"
    return Path(model_cache_dir) / "onnx" / f"{slug}-{backend}-{key}"


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
    folder and renamed into place, so a crash never leaves a half export to be reused. The export runs
    in a child process (`python -m assistant.embed.onnx_build`): torch and the exporter's memory go
    back to the system when it ends, and the process that embeds never imports torch.
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
            what = "exporting it to ONNX" + (" and quantising it to int8" if backend == "onnx-int8" else "")
            with model_cache.preparing(f"{name}: {what}", folder, "20-60 s and 1.2 GB of memory on 2 cores"):
                _export_in_child(name, backend, layout, work)
            if folder.exists():  # a half export without export.json
                shutil.rmtree(folder)
            os.replace(work, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _export_in_child(name: str, backend: str, layout: ModelLayout, work: Path) -> None:
    src = str(Path(__file__).resolve().parents[2])  # src/, holding assistant/
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)}
    try:
        done = subprocess.run([sys.executable, "-m", "assistant.embed.onnx_build", name, backend,
                               str(layout.root), str(work)], env=env, capture_output=True, text=True)
    except OSError as exc:
        raise EmbeddingError(f"Cannot export embedding model {name!r} to ONNX ({backend}): {exc}") from exc
    if done.returncode != 0 or not (work / INFO_FILE).is_file():
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        said = next((line.split(": ", 1)[1] for line in reversed(lines) if line.startswith(FAILED)), None)
        raise EmbeddingError(said or f"Cannot export embedding model {name!r} to ONNX ({backend}): the "
                             f"exporter exited with {done.returncode}: {lines[-1] if lines else 'no message'}")
