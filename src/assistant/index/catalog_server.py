"""The catalog kept in a Chroma server, for several app hosts sharing one index.

A catalog.PageCatalog, like the SQLite one next to an embedded index (catalog_sqlite.py). Chroma has no
transactions, so a commit writes a whole new generation of page records and then flips one `head`
record to it (a single-record upsert is atomic); readers read `head` first and then that generation.
The generation before stays one round, so a reader that read the old head still finds its records.
A snapshot is read from one head: its generation holds all of that version.
The ingest lock is a lease record: write it, wait, read it back — the last writer of a race wins.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from assistant.errors import IngestLockedError, StoreError
from assistant.index.catalog import CatalogSnapshot, MetadataReads, PageChange, PageRecord
from assistant.models import Chunk

_DUMMY = [0.0]  # the catalog collection holds no meaningful vectors; Chroma wants one per record


def _call(description: str, what: str, fn: Any, **kwargs: Any) -> Any:
    """fn(**kwargs), any chromadb error a StoreError saying what the catalog in `description` failed to do."""
    try:
        return fn(**kwargs)
    except Exception as exc:  # noqa: BLE001
        raise StoreError(f"Catalog in {description} failed to {what}: {exc}") from exc


# A page record: metadata {kind: "page", generation, source, path, url, title, content_hash, file_key},
# document: JSON [{id, text, meta}] of its chunks in order.
StoredPage = tuple[dict, str]


def _chunks_of(records: list[StoredPage]) -> list[tuple[str, Chunk]]:
    rows = []
    for _, document in sorted(records, key=lambda r: (r[0]["source"], r[0]["path"])):
        for c in json.loads(document):
            rows.append((c["id"], Chunk.from_metadata(c["text"], c["meta"])))
    return rows


def _pages_per_source(records: list[StoredPage]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m, _ in records:
        counts[m["source"]] = counts.get(m["source"], 0) + 1
    return counts


class ServerCatalog(MetadataReads):
    def __init__(self, client: Any, name: str, description: str) -> None:
        self.description = description
        try:
            self.collection = client.get_or_create_collection(name, embedding_function=None)
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"Cannot open catalog collection {name!r} in {description}: {exc}") from exc

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        return _call(self.description, what, fn, **kwargs)

    def _head(self) -> dict:
        result = self._call("read its head", self.collection.get, ids=["head"], include=["metadatas"])
        return dict(result["metadatas"][0]) if result["ids"] else {}

    def close(self) -> None:
        pass

    def lock(self) -> ServerLease:
        return ServerLease(self.collection, self.description)

    def exists(self) -> bool:
        return bool(self._head().get("version"))  # a head with only recorded sources holds no index yet

    def get_meta(self, key: str) -> str | None:
        value = self._head().get(key)
        return None if value is None else str(value)

    def record_sources(self, sources: list[dict]) -> None:
        """A new list of sources without page changes: the head rewritten with it (under the ingest lease)."""
        head = self._head()
        if not head:  # no version yet: the list goes in with the first commit
            head = {"kind": "head", "generation": 0, "version": 0}
        head["sources"] = json.dumps(sources, ensure_ascii=False)
        self._call("record its sources", self.collection.upsert, ids=["head"], embeddings=[_DUMMY],
                   metadatas=[head], documents=["head"])

    @property
    def version(self) -> int:
        return int(self._head().get("version") or 0)

    def _records(self, generation: int | None = None) -> list[StoredPage]:
        if generation is None:
            generation = int(self._head().get("generation") or 0)
        if not generation:
            return []
        result = self._call("read pages", self.collection.get, where={"generation": generation},
                            include=["metadatas", "documents"])
        return [(dict(m), d) for m, d in zip(result["metadatas"], result["documents"], strict=True)
                if m.get("kind") == "page"]

    def pages(self, source: str | None = None) -> dict[tuple[str, str], PageRecord]:
        return {
            (m["source"], m["path"]): PageRecord(m["content_hash"], [c["id"] for c in json.loads(d)],
                                                 str(m.get("file_key") or ""))
            for m, d in self._records() if source is None or m["source"] == source
        }

    def sources(self) -> dict[str, int]:
        return _pages_per_source(self._records())

    def chunks(self) -> list[tuple[str, Chunk]]:
        return _chunks_of(self._records())

    def chunk_ids(self) -> set[str]:
        return {c["id"] for _, d in self._records() for c in json.loads(d)}

    def counts(self) -> tuple[int, int]:
        records = self._records()
        return len(records), sum(len(json.loads(d)) for _, d in records)

    def read_snapshot(self) -> CatalogSnapshot:
        head = self._head()  # once: the generation it names holds the whole version
        records = self._records(int(head.get("generation") or 0))
        last = head.get("last_ingest")
        return CatalogSnapshot(int(head.get("version") or 0), dict(_chunks_of(records)), len(records),
                               _pages_per_source(records), float(last) if last else None)

    def commit(self, changes: Iterable[PageChange], signature: dict, report: dict,
               sources: list[dict] | None = None) -> int:
        head = self._head()
        old_generation = int(head.get("generation") or 0)
        generation = old_generation + 1
        pages = {(m["source"], m["path"]): (m, d) for m, d in self._records(old_generation)}
        for change in changes:
            key = (change.source, change.path)
            pages.pop(key, None)
            if change.page is not None:
                p = change.page
                meta = {"source": p.source, "path": p.path, "url": p.url, "title": p.title,
                        "content_hash": p.content_hash, "file_key": p.file_key}
                document = json.dumps([{"id": c.id, "text": c.text, "meta": c.metadata()} for c in change.chunks],
                                      ensure_ascii=False)
                pages[key] = (meta, document)
        ids, metadatas, documents = [], [], []
        for (source, path), (meta, document) in pages.items():
            ids.append(f"g{generation}:{source}\x00{path}")
            metadatas.append({**meta, "kind": "page", "generation": generation})
            documents.append(document)
        for start in range(0, len(ids), 500):
            self._call("write pages", self.collection.upsert, ids=ids[start:start + 500],
                       embeddings=[_DUMMY] * len(ids[start:start + 500]),
                       metadatas=metadatas[start:start + 500], documents=documents[start:start + 500])
        version = int(head.get("version") or 0) + 1
        new_head = {"kind": "head", "generation": generation, "version": version,
                    "signature": json.dumps(signature, sort_keys=True), "last_ingest": time.time(),
                    "last_report": json.dumps(report, ensure_ascii=False)}
        recorded = json.dumps(sources, ensure_ascii=False) if sources is not None else head.get("sources")
        if recorded is not None:
            new_head["sources"] = recorded
        self._call("switch to the new version", self.collection.upsert, ids=["head"], embeddings=[_DUMMY],
                   metadatas=[new_head], documents=["head"])
        if old_generation > 1:  # keep the generation just replaced for readers still on it
            self._call("remove old pages", self.collection.delete,
                       where={"$and": [{"kind": "page"}, {"generation": {"$lt": old_generation}}]})
        return version

    def remember_file_keys(self, keys: dict[tuple[str, str], str]) -> None:
        """New file keys of pages whose text did not change, written into the current generation."""
        generation = int(self._head().get("generation") or 0)
        changed = [(m, d) for m, d in self._records(generation) if (m["source"], m["path"]) in keys]
        for start in range(0, len(changed), 500):
            part = changed[start : start + 500]
            self._call("write file keys", self.collection.upsert,
                       ids=[f"g{generation}:{m['source']}\x00{m['path']}" for m, _ in part],
                       embeddings=[_DUMMY] * len(part), documents=[d for _, d in part],
                       metadatas=[{**m, "file_key": keys[(m["source"], m["path"])]} for m, _ in part])

    def clear(self) -> None:
        self._call("clear", self.collection.delete, where={"kind": {"$in": ["page", "head"]}})


class ServerLease:
    """One ingest at a time across hosts: a lease record in the catalog collection (ServerCatalog.lock)."""

    def __init__(self, collection: Any, description: str, ttl: float = 900, settle: float = 0.3) -> None:
        self.collection = collection
        self.description = description
        self.ttl = ttl
        self.settle = settle
        self.owner = uuid.uuid4().hex
        self.is_locked = False

    def _read(self) -> dict:
        result = _call(self.description, "read the ingest lease", self.collection.get, ids=["lease"],
                       include=["metadatas"])
        return dict(result["metadatas"][0]) if result["ids"] else {}

    def _write(self, owner: str, expires: float) -> None:
        _call(self.description, "write the ingest lease", self.collection.upsert, ids=["lease"],
              embeddings=[_DUMMY], metadatas=[{"kind": "lease", "owner": owner, "expires": expires}],
              documents=["lease"])

    def acquire(self) -> None:
        current = self._read()
        if current.get("owner") and float(current.get("expires", 0)) > time.time():
            raise IngestLockedError(
                f"Another ingest is running on {self.description} (lease until "
                f"{time.strftime('%H:%M:%S', time.localtime(float(current['expires'])))}); wait for it to finish"
            )
        self._write(self.owner, time.time() + self.ttl)
        time.sleep(self.settle)
        if self._read().get("owner") != self.owner:
            raise IngestLockedError(f"Another ingest started at the same moment on {self.description}")
        self.is_locked = True

    def release(self) -> None:
        if self.is_locked and self._read().get("owner") == self.owner:
            self._write("", 0.0)
        self.is_locked = False
