"""The trained reader's weights: written by bench/train_reader.py, shipped in the repository, and made
into a model folder the embedding backends run.

Shipped: every trained tensor of multilingual-e5-small except the word-embedding matrix (frozen in
training, 96M of the model's 118M weights), matrices as int8 with one fp32 scale per row, vectors as
fp32, in one compressed `.npz` (~20 MB). At first use the bundled e5 folder (e5_bundle.py) is copied
into `<model cache>/models/reader-<digest>-…/` (beside it, in the environment's model cache of
model_cache.py) with those tensors put in place of its own; from there
the reader runs like any embedding model (torch, onnx, onnx-int8). It does not train nor score.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed import e5_bundle
from assistant.errors import ReaderError

SHIPPED = Path(__file__).resolve().parent / "reader-e5-small.npz"
FORMAT = 1  # bumped when what is written changes
FROZEN = "embeddings.word_embeddings."  # taken from the bundle, never shipped
_SCALE = "#scale"
_INT8 = "#int8"


def save_trained(encoder: Any, out: Path | None = None) -> Path:
    """Writes the trained tensors of a transformers BertModel (`encoder`) as shipped."""
    return save_tensors({name: tensor.detach().cpu().float().numpy() for name, tensor in encoder.state_dict().items()
                         if not name.startswith(FROZEN)}, Path(out or SHIPPED))


def save_tensors(tensors: dict[str, np.ndarray], out: Path) -> Path:
    """Writes named tensors in the shipped format: matrices int8 with a scale per row, the rest fp32
    (bench/train_cross.py writes its cross-encoder this way too)."""
    arrays: dict[str, np.ndarray] = {"format": np.array(FORMAT)}
    for name, weight in tensors.items():
        if weight.ndim == 2:
            scale = np.abs(weight).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            arrays[name + _INT8] = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
            arrays[name + _SCALE] = scale.astype(np.float32)
        else:
            arrays[name] = weight.astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]  # numpy stubs type allow_pickle as the kwargs
    return out


FIX = ("rebuild it with `python -m bench.train_reader` or restore it with `git checkout -- "
       "src/assistant/read/reader-e5-small.npz`; meanwhile answers use the embedding model's cosine")


def check(path: Path) -> None:
    """A cheap look (no tensor read): the file is there, not empty, an archive. ReaderError if not."""
    if not path.is_file():
        raise ReaderError(f"The reader model {path} is missing: {FIX}")
    if path.stat().st_size == 0:
        raise ReaderError(f"The reader model {path} is empty: {FIX}")
    if not zipfile.is_zipfile(path):
        raise ReaderError(f"The reader model {path} is damaged (not an .npz archive): {FIX}")


def load_trained(path: Path) -> dict[str, np.ndarray]:
    """The shipped tensors, dequantised: name → fp32 array. A missing, empty or damaged file raises
    ReaderError naming it and the fix."""
    fix = FIX
    try:
        if path.stat().st_size == 0:
            raise ReaderError(f"The reader model {path} is empty: {fix}")
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ReaderError:
        raise
    except FileNotFoundError as exc:
        raise ReaderError(f"The reader model {path} is missing: {fix}") from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ReaderError(f"The reader model {path} cannot be read ({exc}): {fix}") from exc
    if int(arrays.pop("format", np.array(-1))) != FORMAT:
        raise ReaderError(f"The reader model {path} is of another format than this version reads: {fix}")
    tensors: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if name.endswith(_INT8):
            base = name.removesuffix(_INT8)
            scale = arrays.get(base + _SCALE)
            if scale is None or scale.shape != (value.shape[0], 1):
                raise ReaderError(f"The reader model {path} is damaged ({base} has no scales): {fix}")
            tensors[base] = value.astype(np.float32) * scale
        elif not name.endswith(_SCALE):
            tensors[name] = value.astype(np.float32)
    if not any(name.startswith("encoder.layer.") for name in tensors):
        raise ReaderError(f"The reader model {path} holds no encoder layers: {fix}")
    return tensors


@lru_cache(maxsize=8)
def _digest(path: Path, size: int, mtime: float) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:12]


def digest(path: Path) -> str:
    """What identifies the shipped weights (the embedding cache keys the reader's vectors by it)."""
    stat = path.stat()
    return _digest(path, stat.st_size, stat.st_mtime)


_MADE: dict[str, Path] = {}  # digest → folder: the first one made in a process serves the process
_MADE_LOCK = threading.Lock()


def model_folder(model_cache_dir: Path, shipped: Path = SHIPPED) -> Path:
    """The reader as a sentence-transformers folder, made once per model cache (under a lock, into a
    temporary folder renamed into place); the first one made in a process serves the process (so that
    a test session with many cache folders exports the reader once)."""
    key = digest(shipped)
    with _MADE_LOCK:
        if key not in _MADE or not (_MADE[key] / "modules.json").is_file():
            _MADE[key] = _make_folder(Path(model_cache_dir), shipped, key)
        return _MADE[key]


def _make_folder(model_cache_dir: Path, shipped: Path, key: str) -> Path:
    base = e5_bundle.model_folder(model_cache_dir)
    folder = base.parent / f"reader-{key}-f{FORMAT}-{base.name}"
    if (folder / "modules.json").is_file():
        return folder
    from filelock import FileLock
    from safetensors import safe_open

    trained = load_trained(shipped)
    with FileLock(str(folder) + ".lock"):
        if (folder / "modules.json").is_file():
            return folder
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            # The bundle's tensors are read a block of rows at a time (the word embeddings alone are
            # ~1 GB in fp32 twice over otherwise): a first run stays light on memory.
            with safe_open(str(base / "model.safetensors"), framework="numpy") as bundle:
                shapes = {name: tuple(bundle.get_slice(name).get_shape()) for name in bundle.keys()}
                unknown = sorted(set(trained) - set(shapes))
                wrong = sorted(n for n in trained if n in shapes and shapes[n] != trained[n].shape)
                if unknown or wrong:
                    raise ReaderError(f"The reader model {shipped} does not fit the bundled e5 model "
                                      f"({(unknown + wrong)[:3]}): rebuild it with `python -m bench.train_reader`")
                blocks = {name: (shape, _blocks(trained[name]) if name in trained else _rows_of(bundle, name, shape))
                          for name, shape in shapes.items()}
                e5_bundle.write_safetensors(work / "model.safetensors", blocks, bundle.metadata() or {})
            for item in base.iterdir():
                if item.name != "model.safetensors":
                    (shutil.copytree if item.is_dir() else shutil.copy2)(item, work / item.name)
            work.chmod(0o755)
            os.replace(work, folder)
        except OSError as exc:
            raise ReaderError(f"Cannot write the reader model into {folder}: {exc}. Free disk space") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return folder


def _blocks(tensor: np.ndarray) -> Callable[[], Iterator[np.ndarray]]:
    return lambda: iter((tensor,))


def _rows_of(bundle: Any, name: str, shape: tuple[int, ...], rows: int = 8192) -> Callable[[], Iterator[np.ndarray]]:
    """A tensor of the bundle's file, read `rows` rows at a time."""
    if len(shape) < 2:
        return lambda: iter((bundle.get_tensor(name),))
    part = bundle.get_slice(name)
    return lambda: (part[start:min(start + rows, shape[0])] for start in range(0, shape[0], rows))
