"""The index's record of what is live: pages, their chunks, settings, version; and the embedding cache.

SQLite in the index folder. One ingest commits in one transaction, so a crash before the commit
leaves the previous state whole; vectors added to the store before a crash are simply not live.
The embedding cache (model + text hash → vector) lives in its own file and survives `--full`.
The writer lock (one ingest, or one vector repair, at a time) is here too: it guards the index.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from filelock import FileLock, Timeout

from assistant.errors import IndexMismatchError, IndexMissingError, IngestLockedError, StoreError
from assistant.models import Chunk, Page
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.catalog_server import ServerCatalog, ServerLease

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    source TEXT NOT NULL, path TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL,
    content_hash TEXT NOT NULL, file_key TEXT NOT NULL DEFAULT '', PRIMARY KEY (source, path));
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, path TEXT NOT NULL, ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, meta TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_page ON chunks (source, path);
"""


def check_signature(recorded: dict | None, expected: dict, where: object) -> None:
    """Refuse an index built with another model or other chunking settings, saying what differs."""
    if recorded is not None and recorded != expected:
        differences = ", ".join(
            f"{k}={recorded.get(k)!r} (settings say {expected.get(k)!r})"
            for k in sorted(set(recorded) | set(expected))
            if recorded.get(k) != expected.get(k)
        )
        raise IndexMismatchError(
            f"The index in {where} was built with other settings: {differences}. "
            "Use the settings it was built with, or rebuild it with `python -m ingest --full`."
        )


def recorded_sources_from(raw: str | None, where: object) -> list[dict] | None:
    """The recorded list of sources; StoreError naming the catalog when it is not a list of tables."""
    if raw is None:
        return None
    try:
        sources = json.loads(raw)
    except ValueError:
        sources = None
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise StoreError(f"The list of sources recorded in {where} is damaged; name the sources again with "
                         "`python -m ingest --sources FILE` (the pages are kept until then)")
    return sources


def open_catalog(settings: Settings, must_exist: bool = False) -> Catalog | ServerCatalog:
    """The SQLite catalog next to an embedded index, or the one in the Chroma server."""
    if settings.chroma_host:
        from assistant.catalog_server import ServerCatalog
        from assistant.store import chroma_client

        client, description = chroma_client(settings)
        catalog = ServerCatalog(client, f"{settings.collection}-catalog", description)
        if must_exist and not catalog.exists():
            raise IndexMissingError(f"No index in {description} — run `python -m ingest` first")
        return catalog
    if must_exist:
        return Catalog.open_existing(Path(settings.index_dir))
    return Catalog(Path(settings.index_dir))


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


@dataclass
class PageRecord:
    content_hash: str
    chunk_ids: list[str]
    file_key: str = ""  # of the file it was read from: the same key, no need to read it again


@dataclass
class PageChange:
    """What a commit does to one page: its new state (None when removed) and its chunks."""

    source: str
    path: str
    page: Page | None
    chunks: Sequence[Chunk] = ()


class Catalog:
    FILE = "catalog.sqlite"

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / self.FILE
        self.db = _connect(self.path)
        self.db.executescript(_SCHEMA)
        if "file_key" not in {row[1] for row in self.db.execute("PRAGMA table_info(pages)")}:
            try:
                with self.db:  # an index from before file keys: every file is read once more, then keyed
                    self.db.execute("ALTER TABLE pages ADD COLUMN file_key TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise

    @classmethod
    def open_existing(cls, index_dir: Path) -> Catalog:
        if not (Path(index_dir) / cls.FILE).is_file():
            raise IndexMissingError(f"No index in {index_dir} — run `python -m ingest` first")
        return cls(index_dir)

    def close(self) -> None:
        self.db.close()

    # settings and version
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def signature(self) -> dict | None:
        raw = self.get_meta("signature")
        return json.loads(raw) if raw else None

    def check_signature(self, expected: dict, where: object) -> None:
        check_signature(self.signature(), expected, where)

    def recorded_sources(self) -> list[dict] | None:
        """The sources the index is built from (SourceSpec.to_record each); None for an index from
        before sources were recorded."""
        return recorded_sources_from(self.get_meta("sources"), self.path)

    def record_sources(self, sources: list[dict]) -> None:
        """A new list of sources without page changes (e.g. a source removed that had no pages)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('sources', ?)", (json.dumps(sources, ensure_ascii=False),))

    def exists(self) -> bool:
        return self.get_meta("version") is not None

    @property
    def version(self) -> int:
        return int(self.get_meta("version") or 0)

    # pages and chunks
    def pages(self, source: str | None = None) -> dict[tuple[str, str], PageRecord]:
        query = "SELECT source, path, content_hash, file_key FROM pages"
        rows = self.db.execute(query + (" WHERE source = ?" if source else ""), (source,) if source else ())
        records = {(s, p): PageRecord(h, [], k) for s, p, h, k in rows}
        chunk_rows = self.db.execute(
            "SELECT source, path, id FROM chunks" + (" WHERE source = ?" if source else "") + " ORDER BY ordinal",
            (source,) if source else (),
        )
        for s, p, chunk_id in chunk_rows:
            if (s, p) in records:
                records[(s, p)].chunk_ids.append(chunk_id)
        return records

    def sources(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT source, COUNT(*) FROM pages GROUP BY source").fetchall())

    def chunks(self) -> list[tuple[str, Chunk]]:
        rows = self.db.execute("SELECT id, text, meta FROM chunks ORDER BY source, path, ordinal")
        return [(chunk_id, Chunk.from_metadata(text, json.loads(meta))) for chunk_id, text, meta in rows]

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM chunks")}

    def counts(self) -> tuple[int, int]:
        pages = self.db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(pages), int(chunks)

    def commit(self, changes: Iterable[PageChange], signature: dict, report: dict,
               sources: list[dict] | None = None) -> int:
        """Apply all page changes (and the new list of sources) and bump the version, atomically.
        Returns the new version."""
        try:
            return self._commit(changes, signature, report, sources)
        except sqlite3.Error as exc:  # e.g. "database or disk is full": the transaction rolled back
            raise StoreError(f"Cannot write the index catalog {self.path}: {exc}. Is the disk full? "
                             "The previous version of the index is unchanged.") from exc

    def _commit(self, changes: Iterable[PageChange], signature: dict, report: dict, sources: list[dict] | None) -> int:
        with self.db:  # one transaction
            for change in changes:
                self.db.execute("DELETE FROM pages WHERE source = ? AND path = ?", (change.source, change.path))
                self.db.execute("DELETE FROM chunks WHERE source = ? AND path = ?", (change.source, change.path))
                if change.page is None:
                    continue
                page = change.page
                self.db.execute(
                    "INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?)",
                    (page.source, page.path, page.url, page.title, page.content_hash, page.file_key),
                )
                self.db.executemany(
                    "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (c.id, c.source, c.path, c.ordinal, c.text, json.dumps(c.metadata(), ensure_ascii=False))
                        for c in change.chunks
                    ],
                )
            version = self.version + 1
            for key, value in (
                ("signature", json.dumps(signature, sort_keys=True)),
                ("version", str(version)),
                ("last_ingest", str(time.time())),
                ("last_report", json.dumps(report, ensure_ascii=False)),
                *([("sources", json.dumps(sources, ensure_ascii=False))] if sources is not None else []),
            ):
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        return version

    def remember_file_keys(self, keys: dict[tuple[str, str], str]) -> None:
        """New file keys of pages whose text did not change (no new version: nothing to serve)."""
        with self.db:
            self.db.executemany("UPDATE pages SET file_key = ? WHERE source = ? AND path = ?",
                                [(key, source, path) for (source, path), key in keys.items()])

    def clear(self) -> None:
        with self.db:
            for table in ("pages", "chunks", "meta"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


class EmbeddingCache:
    """model + text hash → vector; an unchanged chunk is never embedded twice, even if its page moved."""

    FILE = "embeddings.sqlite"

    def __init__(self, index_dir: Path) -> None:
        self.db = _connect(Path(index_dir) / self.FILE)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, text_hash TEXT, vector BLOB, PRIMARY KEY (model, text_hash))"
        )

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT text_hash, vector FROM vectors WHERE model = ? AND text_hash IN ({marks})",  # noqa: S608
                (model, *part),
            )
            for text_hash, blob in rows:
                found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
                )
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot write the embedding cache: {exc}. Is the disk full? "
                             "The index is unchanged.") from exc

    def close(self) -> None:
        self.db.close()

    def vectors_for(self, model: str, texts: Mapping[str, str], embed: Callable[[list[str]], np.ndarray],
                    batch: int, on_batch: Callable[[int, int, int], None] | None = None,
                    ) -> tuple[dict[str, np.ndarray], list[str]]:
        """Vectors for `texts` (text hash → text to embed): from the cache, the rest embedded in batches
        that are cached one by one, so that a run killed halfway resumes where it was.

        Returns the vectors by text hash and the hashes the model embedded. `on_batch(number, of, size)`
        is called after each batch is cached."""
        found = self.get_many(model, list(texts))
        missing = [h for h in texts if h not in found]
        batches = (len(missing) + batch - 1) // batch
        for number, start in enumerate(range(0, len(missing), batch), 1):
            part = missing[start : start + batch]
            vectors = embed([texts[h] for h in part])
            self.put_many(model, dict(zip(part, vectors, strict=True)))
            found.update(zip(part, vectors, strict=True))
            if on_batch is not None:
                on_batch(number, batches, len(part))
        return found, missing


class WriterLock(Protocol):
    """One writer at a time per index: an ingest, or a repair of the vector store."""

    @property
    def is_locked(self) -> bool: ...
    def acquire(self) -> None: ...  # raises IngestLockedError when another writer has it
    def release(self) -> None: ...


class FileWriterLock:
    """The writer lock of an embedded index: a lock file the OS releases if the process dies."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.lock = FileLock(str(index_dir / "ingest.lock"))

    @property
    def is_locked(self) -> bool:
        return self.lock.is_locked

    def acquire(self) -> None:
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            raise IngestLockedError(
                f"Another ingest is running on {self.index_dir} (lock {self.lock.lock_file}); wait for it to finish"
            ) from None

    def release(self) -> None:
        self.lock.release()


def writer_lock(settings: Settings) -> FileWriterLock | ServerLease:
    """The lock file next to an embedded index, or a lease record in the Chroma server's catalog."""
    if settings.chroma_host:
        from assistant.catalog_server import ServerCatalog, ServerLease

        catalog = open_catalog(settings)
        assert isinstance(catalog, ServerCatalog)
        return ServerLease(catalog)
    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    return FileWriterLock(index_dir)
