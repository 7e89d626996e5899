"""The `Reader` protocol and its two implementations.

A reader embeds a question and candidate sentences into one space where the sentence that answers
lies closest: `TrainedReader` is multilingual-e5-small fine-tuned on questions written for the
purpose (bench/train_reader.py; BENCHMARKS.md has its figures), `CosineReader` the embedding model
the index was built with, as the answers used before the reader existed. Sentence vectors are made
at ingest and kept in the embedding cache under the reader's `key` (answer/meaning.py reads them).

`make_reader` builds the one the settings name; a missing or damaged reader file is one error line
naming it and the fix, and the cosine reader serves meanwhile. It does not choose sentences nor
decide abstention (answer/).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.embed.embedder import Embedder, embedding_key, get_embedder, load_token_counter, model_cache_folder
from assistant.embed.tokenizer import surrounding
from assistant.errors import EmbeddingError, ReaderError
from assistant.read import weights
from assistant.settings import Settings

log = logging.getLogger("assistant")


class Reader(Protocol):
    name: str  # "trained" or "cosine"
    key: str  # the embedding cache's key of its sentence vectors

    def question_vector(self, question: str) -> np.ndarray: ...

    def sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray: ...


class CosineReader:
    """The index's embedding model's own vectors (the retriever's question vector, cached)."""

    name = "cosine"

    def __init__(self, key: str, question_vector: Callable[[str], np.ndarray],
                 sentence_vectors: Callable[[list[str]], np.ndarray]) -> None:
        self.key = key
        self._question_vector = question_vector
        self._sentence_vectors = sentence_vectors

    def question_vector(self, question: str) -> np.ndarray:
        return self._question_vector(question)

    def sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray:
        return self._sentence_vectors(list(sentences))


class TrainedReader:
    """The fine-tuned encoder, run by the settings' embedding backend; loaded on first use."""

    name = "trained"

    def __init__(self, settings: Settings, shipped: Path | None = None) -> None:
        self.settings = settings
        self.shipped = shipped or weights.SHIPPED  # read when made (bench/reader_sites.py sets another)
        self.key = f"reader-{weights.digest(self.shipped)}@{settings.embedding_backend}"
        self._embedder: Embedder | None = None
        self._count: Callable[[str], int] | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                folder = weights.model_folder(model_cache_folder(self.settings.model_cache_dir), self.shipped)
                self._embedder = get_embedder(str(folder), self.settings.embedding_batch_size,
                                              self.settings.embedding_backend, self.settings.cache_dir,
                                              self.settings.model_cache_dir)
                self._count = load_token_counter(str(folder))
        return self._embedder

    def question_vector(self, question: str) -> np.ndarray:
        return self.embedder.embed_queries([question])[0]

    def sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray:
        """One vector a sentence; a sentence longer than the model's input is read in pieces that fit
        (the mean of their vectors), never cut off."""
        embedder = self.embedder
        count = self._count
        assert count is not None  # set with the embedder
        fits = [count(s) <= embedder.max_tokens for s in sentences]  # each sentence counted once
        vectors = embedder.embed_passages([s for s, fit in zip(sentences, fits, strict=True) if fit])
        out, fitting = [], iter(vectors)
        for sentence, fit in zip(sentences, fits, strict=True):
            if fit:
                out.append(next(fitting))
            else:
                pieces = embedder.embed_passages(fitting_pieces(sentence, count, embedder.max_tokens))
                mean = pieces.mean(axis=0)
                out.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        return np.stack(out).astype(np.float32) if out else np.zeros((0, 1), dtype=np.float32)


def fitting_pieces(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """`text` in consecutive runs of words, each within `limit` word pieces (prompt and special tokens
    included; each word counted once, so a long text costs linear time)."""
    overhead = surrounding(count)
    budget = max(1, limit - overhead)
    pieces: list[str] = []
    words: list[str] = []
    used = 0
    for word in text.split():
        cost = max(1, count(word) - overhead)
        if cost > budget:  # one "word" longer than the model's input: in runs of characters that fit
            if words:
                pieces.append(" ".join(words))
                words, used = [], 0
            size = max(1, len(word) * budget // (2 * cost))
            pieces.extend(word[i:i + size] for i in range(0, len(word), size))
            continue
        if words and used + cost > budget:
            pieces.append(" ".join(words))
            words, used = [], 0
        words.append(word)
        used += cost
    if words:
        pieces.append(" ".join(words))
    return pieces


def make_reader(settings: Settings, question_vector: Callable[[str], np.ndarray],
                sentence_vectors: Callable[[list[str]], np.ndarray], load_now: bool = True) -> Reader:
    """The reader the settings name (`reader`: trained or cosine); the two callables are the index's
    embedding model, for the cosine reader and the fallback. `load_now`: load the model here, so that
    a damaged one is reported at start (an ingest that may embed nothing only looks at the file)."""
    if settings.reader == "trained":
        try:
            weights.check(weights.SHIPPED)
            reader = TrainedReader(settings)
            if load_now:
                reader.embedder  # noqa: B018
            return reader
        except (ReaderError, EmbeddingError, OSError) as exc:
            log.error("%s", exc if isinstance(exc, ReaderError) else
                      f"The reader model {weights.SHIPPED} cannot be loaded ({exc}); answers use the embedding "
                      "model's cosine until it is fixed (python -m bench.train_reader rebuilds it)")
    return CosineReader(embedding_key(settings.embedding_model, settings.embedding_backend), question_vector,
                        sentence_vectors)
