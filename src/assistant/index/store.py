"""Vector store: Chroma, embedded (PersistentClient, default) or a Chroma server (HttpClient).

Holds one vector per chunk with its text and metadata; cosine distance; our own embeddings (never
chromadb's default embedding function, which downloads a model). Which chunks are live is decided by
the catalog (catalog.py), not here: a crashed ingest can leave vectors that no query will return.

The other way round must not happen: a live chunk without a readable vector is one that dense
search can never find, and embedded Chroma reports it only as "Error finding id" when the vector is
read. `check_vectors` reads every live chunk's vector (in batches: ~0.4 s for 10,000) and writes the
missing ones again, from the embedding cache or the model. It runs when the Assistant opens an
index and after each ingest that wrote to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.embed.embedder import embedding_key
from assistant.errors import AssistantError, IngestLockedError, StoreError
from assistant.index.chroma_folder import chroma_damage, embedded_client, move_aside
from assistant.index.embedding_cache import EmbeddingCache
from assistant.index.lock import WriterLock
from assistant.models import Chunk
from assistant.settings import Settings

log = logging.getLogger("store")

CHECK_BATCH = 1000  # vectors per read in check_vectors (1,000: fewest seconds for 10,000 in a measurement)


@dataclass
class Hit:
    id: str
    distance: float


class VectorStore(Protocol):
    description: str

    def add(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def ids(self) -> set[str]: ...
    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]: ...
    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...
    def stored(self, ids: Sequence[str]) -> dict[str, tuple[str, dict]]: ...
    def missing_vectors(self, ids: Sequence[str], batch: int = CHECK_BATCH) -> list[str]: ...
    def drop(self) -> None: ...


class ChromaStore:
    def __init__(self, client: Any, collection: str, description: str) -> None:
        self.client = client
        self.collection_name = collection
        self.description = description
        self.rebuilt: str | None = None  # why the folder was started empty (open_store)
        self._collection = self._open()

    def _open(self) -> Any:
        try:
            return self.client.get_or_create_collection(
                self.collection_name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"Cannot open collection {self.collection_name!r} in {self.description}: {exc}") from exc

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - chromadb raises many types; all mean the same here
            raise StoreError(f"Vector store {self.description} failed to {what}: {exc}") from exc

    def add(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]) -> None:
        batch = max(1, min(5000, int(self._call("report its batch size", self.client.get_max_batch_size))))
        for start in range(0, len(ids), batch):
            end = start + batch
            self._call(
                "store vectors",
                self._collection.upsert,
                ids=list(ids[start:end]),
                embeddings=vectors[start:end].tolist(),
                documents=list(texts[start:end]),
                metadatas=list(metadatas[start:end]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 5000):
            self._call("delete vectors", self._collection.delete, ids=ids[start : start + 5000])

    def ids(self) -> set[str]:
        result = self._call("list ids", self._collection.get, include=[])
        return set(result["ids"])

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        result = self._call(
            "search",
            self._collection.query,
            query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
            n_results=k,
            where=where,
            include=["distances"],
        )
        return [Hit(i, float(d)) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id. An id Chroma cannot read (seen after a writer was killed mid-write)
        is left out and logged rather than failing the whole query."""
        if not ids:
            return {}
        try:
            result = self._collection.get(ids=list(ids), include=["embeddings"])
        except Exception:  # noqa: BLE001 - find the unreadable ids one by one
            found: dict[str, np.ndarray] = {}
            for chunk_id in ids:
                try:
                    one = self._collection.get(ids=[chunk_id], include=["embeddings"])
                except Exception as exc:  # noqa: BLE001
                    log.warning("vector %s unreadable in %s: %s; dense search misses its chunk until the "
                                "vectors are repaired (restart the app, or run `python -m ingest`)",
                                chunk_id, self.description, exc)
                    continue
                pairs = zip(one["ids"], one["embeddings"], strict=True)
                found.update((i, np.asarray(v, dtype=np.float32)) for i, v in pairs)
            return found
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"], strict=True)}

    def stored(self, ids: Sequence[str]) -> dict[str, tuple[str, dict]]:
        """The text and metadata stored for each of `ids` that is there ({} when they cannot be read:
        the caller writes them again)."""
        if not ids:
            return {}
        try:
            result = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        except Exception as exc:  # noqa: BLE001 - unreadable: nothing is taken as stored
            log.debug("stored chunks unreadable in %s: %s", self.description, exc)
            return {}
        return {i: (str(d), dict(m or {})) for i, d, m in zip(result["ids"], result["documents"], result["metadatas"],
                                                               strict=True)}

    def missing_vectors(self, ids: Sequence[str], batch: int = CHECK_BATCH) -> list[str]:
        """The ids among `ids` without a readable vector: absent, unreadable ("Error finding id"), or
        not finite. Reads the vectors themselves, `batch` at a time: listing ids is not enough, the
        ids of unreadable vectors are listed."""
        ids = list(ids)
        missing: list[str] = []
        for start in range(0, len(ids), batch):
            missing.extend(self._unreadable(ids[start : start + batch], probe=True))
        return missing

    def _unreadable(self, ids: list[str], probe: bool = False) -> list[str]:
        try:
            result = self._collection.get(ids=ids, include=["embeddings"])
        except Exception as exc:  # noqa: BLE001 - one unreadable id fails the whole read: halve to find it
            if probe:  # a store that cannot even count is down, not damaged: StoreError, not 1,000 retries
                self._call("count its vectors", self._collection.count)
            if len(ids) == 1:
                log.debug("vector %s unreadable in %s: %s", ids[0], self.description, exc)
                return ids
            if len(ids) <= 16:  # one by one from here: fewer reads than halving when most are unreadable
                return [i for i in ids if self._unreadable([i])]
            middle = len(ids) // 2
            return self._unreadable(ids[:middle]) + self._unreadable(ids[middle:])
        readable = {
            i for i, v in zip(result["ids"], result["embeddings"], strict=True)
            if v is not None and len(v) and bool(np.isfinite(np.asarray(v, dtype=np.float32)).all())
        }
        return [i for i in ids if i not in readable]

    def close(self) -> None:
        """Release this client: the next client of an embedded index in this process reads it from disk
        (another process's writes included) instead of sharing this one's state."""
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def drop(self) -> None:
        """Delete the whole collection (an index built with settings no longer in use)."""
        try:
            self.client.delete_collection(self.collection_name)
        except Exception:  # noqa: BLE001, S110 - already gone is fine
            pass


def collection_name(base: str, signature: dict) -> str:
    """One collection per model/chunking signature, so a rebuild never overwrites live vectors."""
    digest = hashlib.sha1(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:10]
    return f"{base}-{digest}"


def chroma_client(settings: Settings) -> tuple[Any, str]:
    """A Chroma client (embedded under the index folder, or the configured server) and its description."""
    if not settings.chroma_host:
        return embedded_client(Path(settings.index_dir) / "chroma")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, headers=headers,
                                     settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as exc:  # noqa: BLE001
        raise StoreError(f"Cannot open the vector store at {settings.chroma_host}:{settings.chroma_port}: {exc}. "
                         "Is the Chroma server running?") from exc
    return client, f"Chroma server {settings.chroma_host}:{settings.chroma_port}"


def open_store(settings: Settings, collection: str) -> ChromaStore:
    """Embedded Chroma under the index folder, or a Chroma server when chroma_host is set.

    An embedded folder whose database is damaged (not SQLite, cut off, failing SQLite's check) is
    moved aside, kept, and started empty: the catalog holds every live chunk and the embedding cache
    their vectors, so check_vectors writes them all again (`store.rebuilt` says why)."""
    if settings.chroma_host:
        client, description = chroma_client(settings)
        return ChromaStore(client, collection, description)
    folder = Path(settings.index_dir) / "chroma"
    try:
        client, description = embedded_client(folder)
        return ChromaStore(client, collection, description)
    except StoreError as exc:
        damage = chroma_damage(folder, exc)
        if damage is None:
            raise
    aside = move_aside(folder, damage)
    rebuilt = (f"the vector store {folder} could not be read ({damage}): it was moved to {aside.name} and started "
               "empty, and its vectors are written again from the embedding cache (the model embeds what the "
               "cache lacks)")
    log.error("%s. Nothing to do; delete %s when no longer needed.", rebuilt[0].upper() + rebuilt[1:], aside)
    client, description = embedded_client(folder)
    store = ChromaStore(client, collection, description)
    store.rebuilt = rebuilt
    return store


@dataclass
class VectorCheck:
    """What check_vectors found: live chunks (ids in the catalog) whose vector cannot be read."""

    checked: int = 0  # live chunks whose vector was read
    missing: int = 0  # of those, without a readable vector
    repaired: int = 0  # of those, written again
    embedded: int = 0  # of the repaired, embedded anew because the embedding cache had no vector
    seconds: float = 0.0
    error: str | None = None  # why missing vectors were not repaired
    rebuilt: str | None = None  # why the vector store was started empty (a damaged folder, open_store)
    at: float | None = None  # when (Unix time)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        text = f"{self.checked} live chunks checked, {self.missing} without a readable vector, {self.repaired} repaired"
        if self.embedded:
            text += f" ({self.embedded} embedded anew: not in the embedding cache)"
        return text + f"; {self.seconds:.2f} s"


def check_vectors(store: VectorStore, live: Callable[[], Mapping[str, Chunk]], settings: Settings,
                  embed: Callable[[list[str]], np.ndarray],
                  writer_lock: Callable[[], WriterLock] | None = None) -> VectorCheck:
    """Read the vector of every live chunk (`live()`: id → chunk) and write the missing ones again:
    the vector from the embedding cache, else from `embed`, with the chunk's text and metadata.

    `writer_lock` makes the index's writer lock, for callers that do not hold it (opening the
    Assistant): it is taken only when something is missing, and if an ingest holds it the repair is
    left to that ingest, which checks when it has written. Never raises for what it cannot read or
    repair: it says so in `error` and in a warning."""
    started = time.perf_counter()
    chunks = live()
    check = VectorCheck(checked=len(chunks), at=time.time(), rebuilt=getattr(store, "rebuilt", None))
    try:
        missing = store.missing_vectors(list(chunks))
    except StoreError as exc:
        check.error = f"the vectors could not be read: {exc}"
        log.warning("Vector check of %s failed: %s", store.description, exc)
        return check
    check.missing = len(missing)
    if missing:
        lock: WriterLock | None = None
        try:
            if writer_lock is not None:
                lock = writer_lock()
                lock.acquire()
            try:
                if lock is not None:  # an ingest may have committed before the lock was ours
                    chunks = live()
                    missing = store.missing_vectors([i for i in missing if i in chunks])
                    check.missing = len(missing)
                check.repaired, check.embedded = _rewrite(store, [(i, chunks[i]) for i in missing], settings, embed)
            finally:
                if lock is not None and lock.is_locked:
                    lock.release()
        except IngestLockedError:
            check.error = "an ingest is running; it checks and repairs the vectors when it has written them"
        except (AssistantError, OSError, sqlite3.Error) as exc:  # e.g. a read-only index folder: open anyway
            check.error = str(exc)
    check.seconds = time.perf_counter() - started
    if check.missing:
        _warn(check, store.description)
    return check


def _rewrite(store: VectorStore, chunks: list[tuple[str, Chunk]], settings: Settings,
             embed: Callable[[list[str]], np.ndarray]) -> tuple[int, int]:
    """Upsert these chunks' vectors again. Returns (written, embedded by the model)."""
    if not chunks:
        return 0, 0
    cache = EmbeddingCache(Path(settings.embedding_cache_dir or settings.index_dir))
    model = embedding_key(settings.embedding_model, settings.embedding_backend)
    try:
        vectors, embedded = cache.vectors_for(model, {c.text_hash: c.embed_text for _, c in chunks}, embed,
                                              settings.embedding_cache_batch)
    finally:
        cache.close()
    store.add([i for i, _ in chunks], np.stack([vectors[c.text_hash] for _, c in chunks]),
              [c.text for _, c in chunks], [c.metadata() for _, c in chunks])
    return len(chunks), len(embedded)


def _warn(check: VectorCheck, where: str) -> None:
    if check.error is None and check.repaired == check.missing:
        cause = "the store was started empty" if check.rebuilt else "a writer killed mid-write can leave this"
        log.warning("%d of %d live chunks had no readable vector in %s (%s); all were written again, %d of them "
                    "from the embedding cache. Dense search finds them again; nothing more to do.", check.missing,
                    check.checked, where, cause, check.repaired - check.embedded)
        return
    log.warning("%d of %d live chunks have no readable vector in %s and %d were repaired: %s. Dense search "
                "misses the rest until they are written again: restart the app when no ingest is running, or "
                "rebuild the vectors with `python -m ingest --full`.", check.missing, check.checked, where,
                check.repaired, check.error or "unknown cause")
