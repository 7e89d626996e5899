"""Hybrid retrieval: dense (Chroma) + Danish BM25, fused by weighted reciprocal rank.

The retriever works on a snapshot of the index (catalog version, live chunks, lexical index). When an
ingest commits a new version, the next query builds a new snapshot and swaps it in whole, so a query
is answered from one version only. Follow-up questions borrow the previous user turn's terms.
It does not write answers (answer/) nor know about HTTP (web/).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.catalog import Catalog
from assistant.embed import Embedder, get_embedder
from assistant.lexical import DanishAnalyzer, LexicalIndex
from assistant.models import Chunk
from assistant.settings import Settings
from assistant.store import VectorStore, open_store

RRF_K = 60


@dataclass
class Filters:
    source: str | None = None
    path_prefix: str | None = None

    def allows(self, chunk: Chunk) -> bool:
        if self.source and chunk.source != self.source:
            return False
        return not (self.path_prefix and not chunk.path.startswith(self.path_prefix.lstrip("/")))

    @property
    def active(self) -> bool:
        return bool(self.source or self.path_prefix)


@dataclass
class Passage:
    id: str
    chunk: Chunk
    score: float  # fused score
    dense: float = 0.0  # cosine similarity of the question and the chunk
    lexical: float = 0.0  # BM25 score
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass
class Snapshot:
    version: int
    chunks: dict[str, Chunk]
    lexical: LexicalIndex
    analyzer: DanishAnalyzer
    pages: int
    last_ingest: float | None
    sources: dict[str, int] = field(default_factory=dict)


@dataclass
class Query:
    text: str  # what the user asked
    context: str = ""  # key terms carried over from the conversation

    @property
    def lexical_text(self) -> str:
        return f"{self.text} {self.context}".strip()


FOLLOW_UP_HINTS = {
    "den", "det", "de", "dem", "denne", "dette", "disse", "han", "hun", "hende", "ham", "deres", "dens",
    "dets", "sin", "sit", "sine", "der", "it", "they", "them", "this", "that", "he", "she", "her", "him",
    "its", "their", "those", "these",
}


def condense(question: str, history: list[dict] | None) -> Query:
    """Without an LLM: a short or pronoun-led follow-up carries the previous user turn's words."""
    if not history:
        return Query(question)
    previous = [t.get("content", "") for t in history if t.get("role") == "user" and t.get("content")]
    if not previous:
        return Query(question)
    words = question.lower().replace("?", " ").split()
    if len(words) <= 14 or FOLLOW_UP_HINTS & set(words):
        return Query(question, previous[-1][:500])
    return Query(question)


class Retriever:
    def __init__(self, settings: Settings, store: VectorStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> Retriever:
        from ingest.pipeline import collection_name  # the same name the ingest wrote to

        catalog = Catalog.open_existing(Path(settings.index_dir))
        catalog.check_signature(settings.chunking_signature(), Path(settings.index_dir))
        catalog.close()
        store = open_store(settings, collection_name(settings.collection, settings.chunking_signature()))
        retriever = cls(settings, store, get_embedder(settings.embedding_model, settings.embedding_batch_size))
        retriever.snapshot()
        return retriever

    def snapshot(self) -> Snapshot:
        """The current snapshot, rebuilt (once, under a lock) when the catalog has a newer version."""
        catalog = Catalog(Path(self.settings.index_dir))
        try:
            version = catalog.version
            current = self._snapshot
            if current is not None and current.version == version:
                return current
            with self._lock:
                if self._snapshot is not None and self._snapshot.version == version:
                    return self._snapshot
                rows = catalog.chunks()
                chunks = dict(rows)
                analyzer = DanishAnalyzer(c.embed_text for c in chunks.values())
                lexical = LexicalIndex(list(chunks), [c.embed_text for c in chunks.values()], analyzer)
                pages, _ = catalog.counts()
                last = catalog.get_meta("last_ingest")
                self._snapshot = Snapshot(version, chunks, lexical, analyzer, pages,
                                          float(last) if last else None, catalog.sources())
                return self._snapshot
        finally:
            catalog.close()

    def search(self, query: Query | str, k: int = 8, filters: Filters | None = None,
               snapshot: Snapshot | None = None) -> list[Passage]:
        query = Query(query) if isinstance(query, str) else query
        snap = snapshot or self.snapshot()
        filters = filters or Filters()
        allowed = {i for i, c in snap.chunks.items() if filters.allows(c)} if filters.active else None
        pool = max(40, k * 5)
        lexical = snap.lexical.search(query.lexical_text, pool, allowed)
        dense = self._dense(query, pool, snap, allowed)
        return fuse(dense, lexical, snap, k, self.settings)

    def _dense(self, query: Query, pool: int, snap: Snapshot, allowed: set[str] | None) -> list[tuple[str, float]]:
        text = f"{query.context} {query.text}".strip() if query.context else query.text
        vector = self.embedder.embed([text])[0]
        hits = self.store.query(np.asarray(vector), min(pool + 10, max(1, len(snap.chunks))))
        out = []
        for hit in hits:  # vectors that are not live (an ingest in progress) are skipped
            if hit.id in snap.chunks and (allowed is None or hit.id in allowed):
                out.append((hit.id, 1.0 - hit.distance))
        return out


def fuse(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], snap: Snapshot, k: int,
         settings: Settings) -> list[Passage]:
    """Weighted reciprocal rank fusion; BM25 weighs more (the bundled model is English-trained)."""
    passages: dict[str, Passage] = {}
    for rank, (chunk_id, similarity) in enumerate(dense):
        p = passages.setdefault(chunk_id, Passage(chunk_id, snap.chunks[chunk_id], 0.0))
        p.dense, p.dense_rank = similarity, rank
        p.score += settings.dense_weight / (RRF_K + rank)
    for rank, (chunk_id, score) in enumerate(lexical):
        p = passages.setdefault(chunk_id, Passage(chunk_id, snap.chunks[chunk_id], 0.0))
        p.lexical, p.lexical_rank = score, rank
        p.score += settings.lexical_weight / (RRF_K + rank)
    return sorted(passages.values(), key=lambda p: p.score, reverse=True)[:k]
