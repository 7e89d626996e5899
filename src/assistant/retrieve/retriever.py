"""Hybrid retrieval: dense (Chroma) + Danish BM25, fused by a weighted sum of normalised scores.

The retriever works on a snapshot of the index (catalog version, live chunks, lexical index). When an
ingest commits a new version, the next query builds a new snapshot and swaps it in whole, so a query
is answered from one version only. Follow-up questions borrow the previous user turn's terms.
It does not write answers (answer/) nor know about HTTP (web/).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from assistant.embed.embedder import Embedder, get_embedder
from assistant.index.catalog import PageCatalog
from assistant.index.factory import open_catalog
from assistant.index.store import VectorStore, collection_name, open_store
from assistant.models import Chunk, History
from assistant.retrieve.danish import (
    COMMON_INFINITIVES,
    CONTINUING_OPENERS,
    POSSESSIVE_PRONOUNS,
    PRONOUNS_OR_ARTICLES,
    REFERRING_PRONOUNS,
    STANDS_FOR_AFTER,
    STANDS_FOR_BEFORE,
    STOPWORDS,
)
from assistant.retrieve.danish_analyzer import DanishAnalyzer
from assistant.retrieve.lexical import LexicalIndex
from assistant.settings import Settings

QUERY_VECTORS_KEPT = 256  # question vectors remembered (a question asked again embeds nothing)


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
    # (source, path) → the heading every chunk of the page sits under (its H1), when there is one.
    top_headings: dict[tuple[str, str], str] = field(default_factory=dict)


def top_headings(chunks: Iterable[Chunk]) -> dict[tuple[str, str], str]:
    """Per page, the first heading of its chunks' heading paths when they all share it: the page's
    top heading (an H1 over the whole page). Pages whose sections start at H2 have none."""
    firsts: dict[tuple[str, str], set[str]] = {}
    for chunk in chunks:
        if chunk.headings:
            firsts.setdefault((chunk.source, chunk.path), set()).add(chunk.headings[0])
    return {page: next(iter(first)) for page, first in firsts.items() if len(first) == 1}


@dataclass
class Query:
    text: str  # what the user asked
    context: str = ""  # key terms carried over from the conversation
    # Passages whose text passes this get a bonus (settings.answer_type_bonus): those stating the kind
    # of fact asked for, e.g. an amount of money for "hvad koster ...?" (answer/expect.py).
    prefer: Callable[[Chunk], bool] | None = None
    language: str = "da"  # of the question: decides how much the dense similarity weighs

    @property
    def lexical_text(self) -> str:
        return f"{self.text} {self.context}".strip()

    @property
    def dense_text(self) -> str:
        return f"{self.context} {self.text}".strip()


# A pronoun that is also an article ("den", "det", "de" …: danish.PRONOUNS_OR_ARTICLES) refers back only
# near the end of the question ("Hvem leverer den?", "Hvilken version skal det mindst være?") with no
# adjective (Danish "-e"), number or "at" after it.
NEAR_END = 3  # an ambiguous pronoun refers back only among the question's last words
SHORT = 10  # words: a question this short may lean on the one before with "… også det …" (STANDS_FOR_*)
_WORDS = re.compile(r"[^\W_][\w'’-]*|[,;:–.]")


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation: it starts by continuing it ("Og hvor foregår
    det?", "What about …") or refers back with a pronoun ("Hvad koster det?", "Hvem leverer den?")
    whose antecedent is not in the question itself ("Hvem leverer vedligeholdelsen af OS2forms, og
    hvem kvalitetssikrer den?" names it before the comma). A question that names its own subject is
    answered exactly as it would be without the conversation."""
    text = question.lower().strip()
    if text.startswith(CONTINUING_OPENERS):
        return True
    tokens = _WORDS.findall(text)
    words = [(position, t) for position, t in enumerate(tokens) if t[0].isalnum()]  # (place in tokens, word)
    for i, (position, word) in enumerate(words):
        following = words[i + 1][1] if i + 1 < len(words) else ""
        article = (following.endswith("e") and following not in COMMON_INFINITIVES) or following[:1].isdigit()
        ambiguous = word in PRONOUNS_OR_ARTICLES and not article and following not in ("at", "om") and \
            (len(words) - i <= NEAR_END or _stands_for(words, i))
        if word in REFERRING_PRONOUNS or ambiguous:
            return not _antecedent_before(tokens[:position])
        if word in POSSESSIVE_PRONOUNS:
            return not _antecedent_before(tokens[:position], within_clause=True)
    return False


def _stands_for(words: list[tuple[int, str]], i: int) -> bool:
    """Whether "det"/"den"/"dem" at i stands for what a short question leans on: after "man"/"også" or
    before "også" ("Kan man også det på de enkelte slides?"), with no "at" clause it anticipates."""
    text = [w for _, w in words]
    return len(text) <= SHORT and text[i] in ("det", "den", "dem") and "at" not in text[i + 1:] and \
        ((i > 0 and text[i - 1] in STANDS_FOR_AFTER) or (i + 1 < len(text) and text[i + 1] in STANDS_FOR_BEFORE))


def _antecedent_before(before: list[str], within_clause: bool = False) -> bool:
    """Whether the tokens before the pronoun hold, up to their last comma, dash or full stop (all of
    them, `within_clause`), at least two things the pronoun can refer to."""
    ends = [len(before)] if within_clause else [i for i, t in enumerate(before) if t in {",", ";", ":", "–", "."}]
    if not ends:
        return False
    clause = [t for t in before[: ends[-1]] if t[0].isalnum() and t not in STOPWORDS and len(t) > 1]
    return len(clause) >= 2


def condense(question: str, history: History | None) -> Query:
    """Without an LLM: a follow-up carries the previous user turn's words; any other question is
    asked as it stands."""
    if not history or not is_follow_up(question):
        return Query(question)
    previous = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not previous:
        return Query(question)
    return Query(question, previous[-1][:500])


class Retriever:
    def __init__(self, settings: Settings, store: VectorStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._index_catalog: PageCatalog | None = None
        # The latest questions' vectors: an answer reads its question's vector twice (retrieval, sentences).
        self.query_vector = lru_cache(maxsize=QUERY_VECTORS_KEPT)(self._embed_query)

    @classmethod
    def open(cls, settings: Settings) -> Retriever:
        catalog = open_catalog(settings, must_exist=True)
        catalog.check_signature(settings.chunking_signature(), settings.chroma_host or settings.index_dir)
        catalog.close()
        store = open_store(settings, collection_name(settings.collection, settings.chunking_signature()))
        embedder = get_embedder(settings.embedding_model, settings.embedding_batch_size,
                                settings.embedding_backend, settings.cache_dir)
        embedder.use_threads(settings.query_threads)
        retriever = cls(settings, store, embedder)
        retriever.snapshot()
        return retriever

    def _catalog(self) -> PageCatalog:
        """Opened once and shared by the serving threads: every query reads the version."""
        if self._index_catalog is None:
            self._index_catalog = open_catalog(self.settings)
        return self._index_catalog

    def snapshot(self) -> Snapshot:
        """The current snapshot, rebuilt (once, under a lock) when the catalog has a newer version."""
        catalog = self._catalog()
        version = catalog.version
        current = self._snapshot
        if current is not None and current.version == version:
            return current
        with self._lock:
            if self._snapshot is not None and self._snapshot.version == version:
                return self._snapshot
            read = catalog.read_snapshot()  # may be newer than `version`: it is then the one served
            chunks = read.chunks
            analyzer = DanishAnalyzer(c.embed_text for c in chunks.values())
            lexical = LexicalIndex(list(chunks), [c.embed_text for c in chunks.values()], analyzer)
            self._snapshot = Snapshot(read.version, chunks, lexical, analyzer, read.pages, read.last_ingest,
                                      read.sources, top_headings(chunks.values()))
            return self._snapshot

    def search(self, query: Query | str, k: int = 8, filters: Filters | None = None,
               snapshot: Snapshot | None = None) -> list[Passage]:
        query = Query(query) if isinstance(query, str) else query
        snap = snapshot or self.snapshot()
        filters = filters or Filters()
        allowed = {i for i, c in snap.chunks.items() if filters.allows(c)} if filters.active else None
        pool = max(self.settings.candidate_pool, k * 5)
        lexical = snap.lexical.search(query.lexical_text, pool, allowed)
        vector = self.query_vector(query.dense_text)
        dense = self._dense(vector, pool, snap, allowed)
        # Lexical hits outside the dense pool still get their true similarity, so that a strong BM25
        # match is not lost for want of a dense rank (the model separates Danish poorly).
        missing = [i for i, _ in lexical if i not in dense]
        for chunk_id, v in self.store.vectors(missing).items():
            dense[chunk_id] = float(np.dot(vector, v))
        dense_weight = self.settings.dense_weight_english if query.language == "en" else self.settings.dense_weight
        return fuse(dense, dict(lexical), snap, k, self.settings, query.prefer, dense_weight)

    def _embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_queries([text])[0]

    def _dense(self, vector: np.ndarray, pool: int, snap: Snapshot, allowed: set[str] | None) -> dict[str, float]:
        hits = self.store.query(vector, min(pool + 10, max(1, len(snap.chunks))))
        out = {}
        for hit in hits:  # vectors that are not live (an ingest in progress) are skipped
            if hit.id in snap.chunks and (allowed is None or hit.id in allowed):
                out[hit.id] = 1.0 - hit.distance
        return out


def fuse(dense: dict[str, float], lexical: dict[str, float], snap: Snapshot, k: int,
         settings: Settings, prefer: Callable[[Chunk], bool] | None = None,
         dense_weight: float | None = None) -> list[Passage]:
    """Weighted sum of normalised scores: BM25 / best BM25 and similarity rescaled over the
    candidates, `dense_weight` (settings.dense_weight by default) and 1 − that, plus a bonus for the
    passages `prefer` picks.

    BM25 weighs more by default: the bundled model is English-trained and separates Danish weakly.
    """
    dense_weight = settings.dense_weight if dense_weight is None else dense_weight
    if not dense and not lexical:
        return []
    best_lexical = max(lexical.values(), default=0.0) or 1.0
    low, high = min(dense.values(), default=0.0), max(dense.values(), default=1.0)
    spread = (high - low) or 1.0
    dense_order = {i: r for r, i in enumerate(sorted(dense, key=dense.__getitem__, reverse=True))}
    lexical_order = {i: r for r, i in enumerate(lexical)}
    passages = []
    for chunk_id in set(dense) | set(lexical):
        similarity = dense.get(chunk_id, low)
        bm25 = lexical.get(chunk_id, 0.0)
        score = (1 - dense_weight) * bm25 / best_lexical + dense_weight * (similarity - low) / spread
        if prefer is not None and prefer(snap.chunks[chunk_id]):
            score += settings.answer_type_bonus
        passages.append(Passage(chunk_id, snap.chunks[chunk_id], score, similarity, bm25,
                                dense_order.get(chunk_id), lexical_order.get(chunk_id)))
    return diversify(sorted(passages, key=lambda p: p.score, reverse=True), k, settings.max_chunks_per_page)


def diversify(ranked: list[Passage], k: int, per_page: int) -> list[Passage]:
    """At most `per_page` passages of one page among the first ones, so that other pages get a turn."""
    first: list[Passage] = []
    rest: list[Passage] = []
    count: dict[tuple[str, str], int] = {}
    for passage in ranked:
        key = (passage.chunk.source, passage.chunk.path)
        count[key] = count.get(key, 0) + 1
        (first if count[key] <= per_page else rest).append(passage)
    return (first + rest)[:k]
