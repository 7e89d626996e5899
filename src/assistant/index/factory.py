"""Which catalog and writer lock an index has, from the settings: the SQLite catalog and a lock file
next to an embedded index, or the catalog records and a lease in the Chroma server.

The one place that knows both implementations (catalog.py holds only what they share). Opening an
embedded index's catalog does not start Chroma: chromadb is imported only to reach a server.
"""

from __future__ import annotations

from pathlib import Path

from assistant.errors import IndexMissingError
from assistant.index.catalog import PageCatalog
from assistant.index.catalog_server import ServerCatalog
from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.index.lock import FileWriterLock, WriterLock
from assistant.index.store import chroma_client
from assistant.settings import Settings


def open_catalog(settings: Settings, must_exist: bool = False) -> PageCatalog:
    """The SQLite catalog next to an embedded index, or the one in the Chroma server.
    `must_exist`: IndexMissingError when there is no index yet."""
    if settings.chroma_host:
        client, description = chroma_client(settings)
        catalog = ServerCatalog(client, f"{settings.collection}-catalog", description)
        if must_exist and not catalog.exists():
            raise IndexMissingError(f"No index in {description} — run `python -m ingest` first")
        return catalog
    if must_exist:
        return SqliteCatalog.open_existing(Path(settings.index_dir))
    return SqliteCatalog(Path(settings.index_dir))


def writer_lock(settings: Settings) -> WriterLock:
    """The writer lock of the index the settings name, for a caller without its catalog open
    (one with it calls `catalog.lock()`): the lock file, or a lease in the Chroma server's catalog."""
    if settings.chroma_host:
        return open_catalog(settings).lock()
    return FileWriterLock(Path(settings.index_dir))  # the lock file alone: the SQLite file is not opened
