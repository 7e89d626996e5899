"""How close in meaning each sentence of a passage is to the question: the multilingual model's
cosine similarity, the signal that picks the sentence that answers and says whether one does.

Sentence vectors are computed at ingest (ingest/pipeline.py embeds every prose sentence of every new
chunk into the embedding cache, keyed like chunks by model and text hash), so a query only reads
them: ~1 ms for the sentences of four passages, against ~160 ms to embed them on two cores. A
sentence the cache lacks (an index built elsewhere, a Chroma server's index) is embedded once and
cached. It does not choose sentences (extractive.py) nor decide abstention (abstain.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.errors import StoreError
from assistant.index.embedding_cache import EmbeddingCache
from assistant.text import sentence_hash

log = logging.getLogger("assistant")

SentenceScorer = Callable[[Sequence[str]], np.ndarray]  # sentences → cosine similarity to the question


class SentenceVectors:
    """Reads (and, for a sentence not embedded at ingest, writes) sentence vectors in the cache."""

    def __init__(self, cache_dir: Path, model_key: str, embed: Callable[[list[str]], np.ndarray]) -> None:
        self.cache_dir = Path(cache_dir)
        self.model_key = model_key
        self.embed = embed
        self._local = threading.local()

    def _cache(self) -> EmbeddingCache:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = EmbeddingCache(self.cache_dir)
        return cache

    def vectors(self, sentences: Sequence[str]) -> np.ndarray:
        hashes = [sentence_hash(s) for s in sentences]
        cache = self._cache()
        found = cache.get_many(self.model_key, hashes)
        missing = {h: s for h, s in zip(hashes, sentences, strict=True) if h not in found}
        if missing:
            fresh = dict(zip(missing, self.embed(list(missing.values())), strict=True))
            found.update(fresh)
            try:
                cache.put_many(self.model_key, fresh)
            except StoreError as exc:  # a full or read-only disk: the answer does not depend on it
                log.warning("sentence vectors not cached: %s", exc)
        return np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, 1), dtype=np.float32)

    def scorer(self, query_vector: np.ndarray) -> SentenceScorer:
        def score(sentences: Sequence[str]) -> np.ndarray:
            if not sentences:
                return np.zeros(0, dtype=np.float32)
            return self.vectors(sentences) @ query_vector

        return score


def remembered(score: SentenceScorer) -> SentenceScorer:
    """The scorer of one question, remembering what it computed: abstention and the answer look at
    the same sentences."""
    known: dict[str, float] = {}

    def cached(sentences: Sequence[str]) -> np.ndarray:
        new = [s for s in dict.fromkeys(sentences) if s not in known]
        if new:
            known.update(zip(new, (float(v) for v in score(new)), strict=True))
        return np.array([known[s] for s in sentences], dtype=np.float32)

    return cached
