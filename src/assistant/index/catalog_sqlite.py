"""The catalog of an embedded index: SQLite in the index folder; its writer lock is a lock file (lock.py).

One ingest commits in one transaction, so a crash before the commit leaves the previous state
whole; vectors added to the store before a crash are simply not live. A snapshot is read in one
read transaction (WAL: a commit meanwhile is not seen). Each thread that uses a catalog gets its
own connection, so serving threads share one catalog and read side by side. It does not hold
vectors (store.py) nor the embedding cache (embedding_cache.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from assistant.errors import IndexMissingError, StoreError
from assistant.index.catalog import CatalogSnapshot, MetadataReads, PageChange, PageRecord
from assistant.index.lock import FileWriterLock
from assistant.index.sqlite_file import check_sqlite_file, connect, damaged
from assistant.models import Chunk

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


class SqliteCatalog(MetadataReads):
    FILE = "catalog.sqlite"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / self.FILE
        self.description = str(self.path)
        self._local = threading.local()  # a thread's connection goes when the thread does
        check_sqlite_file(self.path, "the index's catalog (its pages, chunks and recorded sources)",
                          "restore it from a backup, or move it away and build the index again with `python -m ingest`")
        try:
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, exc, "restore it from a backup, or move it away and build the index again "
                           "with `python -m ingest`") from exc
        if "file_key" not in {row[1] for row in self.db.execute("PRAGMA table_info(pages)")}:
            try:
                with self.db:  # an index from before file keys: every file is read once more, then keyed
                    self.db.execute("ALTER TABLE pages ADD COLUMN file_key TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise

    @classmethod
    def open_existing(cls, index_dir: Path) -> SqliteCatalog:
        if not (Path(index_dir) / cls.FILE).is_file():
            raise IndexMissingError(f"No index in {index_dir} — run `python -m ingest` first")
        return cls(index_dir)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection to the catalog file (a connection is not for two threads at once)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
        return db

    def close(self) -> None:
        """Close this thread's connection (the next use opens another)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            del self._local.db

    def lock(self) -> FileWriterLock:
        return FileWriterLock(self.index_dir)

    # settings and version
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

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

    def read_snapshot(self) -> CatalogSnapshot:
        self.db.execute("BEGIN")  # one read transaction: every part from the same version
        try:
            meta = dict(self.db.execute("SELECT key, value FROM meta WHERE key IN ('version', 'last_ingest')"))
            chunks = dict(self.chunks())
            sources = self.sources()
        finally:
            self.db.rollback()
        last = meta.get("last_ingest")
        return CatalogSnapshot(int(meta.get("version") or 0), chunks, sum(sources.values()), sources,
                               float(last) if last else None)

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
