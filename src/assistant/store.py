"""Vector store: Chroma, embedded (PersistentClient, default) or a Chroma server (HttpClient).

Holds one vector per chunk with its text and metadata; cosine distance; our own embeddings (never
chromadb's default embedding function, which downloads a model). Which chunks are live is decided by
the catalog (catalog.py), not here: a crashed ingest can leave vectors that no query will return.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import StoreError
from assistant.settings import Settings

log = logging.getLogger("store")


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
    def drop(self) -> None: ...


class ChromaStore:
    def __init__(self, client: Any, collection: str, description: str) -> None:
        self.client = client
        self.collection_name = collection
        self.description = description
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
                    log.warning("vector %s unreadable in %s: %s", chunk_id, self.description, exc)
                    continue
                pairs = zip(one["ids"], one["embeddings"], strict=True)
                found.update((i, np.asarray(v, dtype=np.float32)) for i, v in pairs)
            return found
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"], strict=True)}

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
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, headers=headers, settings=chroma_settings
            )
            return client, f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
        path = Path(settings.index_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings), f"embedded Chroma in {path}"
    except Exception as exc:  # noqa: BLE001
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.index_dir)
        raise StoreError(f"Cannot open the vector store at {where}: {exc}. Is the Chroma server running?") from exc


def open_store(settings: Settings, collection: str) -> ChromaStore:
    """Embedded Chroma under the index folder, or a Chroma server when chroma_host is set."""
    client, description = chroma_client(settings)
    return ChromaStore(client, collection, description)
