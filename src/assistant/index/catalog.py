"""The index's catalog: what is live (pages, their chunks, settings, version), as one interface.

`PageCatalog` is what every caller uses; factory.py's `open_catalog` picks the implementation from the
settings: SQLite next to an embedded index (catalog_sqlite.py) or records in the Chroma server
(catalog_server.py). Both commit a whole new version at once, so a reader sees the previous version
or the new one, never half of one. Each catalog also gives the index's writer lock (lock.py: one
ingest, or one vector repair, at a time). This module holds no storage code; the embedding cache is
embedding_cache.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.errors import IndexMismatchError, StoreError
from assistant.index.lock import WriterLock
from assistant.models import Chunk, Page


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


@dataclass(frozen=True)
class CatalogSnapshot:
    """One version of the catalog, read at once: what a query-serving snapshot is built from."""

    version: int  # 0: nothing committed yet
    chunks: dict[str, Chunk]  # id → chunk, ordered by source, path, ordinal
    pages: int
    sources: dict[str, int]  # source name → its number of pages
    last_ingest: float | None  # Unix time of the commit


class PageCatalog(Protocol):
    """The record of what is live in one index. Metadata keys: signature, version, last_ingest,
    last_report, sources. Threads may share one catalog (SQLite: a connection per thread)."""

    @property
    def version(self) -> int: ...  # 0 before the first commit
    def exists(self) -> bool: ...  # a version has been committed
    def close(self) -> None: ...

    def get_meta(self, key: str) -> str | None: ...
    def signature(self) -> dict | None: ...  # the model and chunking settings the index was built with
    def check_signature(self, expected: dict, where: object) -> None: ...  # IndexMismatchError naming both
    def recorded_sources(self) -> list[dict] | None: ...  # SourceSpec.to_record each; None: never recorded
    def record_sources(self, sources: list[dict]) -> None: ...  # a new list without page changes

    def pages(self, source: str | None = None) -> dict[tuple[str, str], PageRecord]: ...  # by (source, path)
    def sources(self) -> dict[str, int]: ...  # source name → its number of pages
    def chunks(self) -> list[tuple[str, Chunk]]: ...  # (id, chunk), ordered by source, path, ordinal
    def chunk_ids(self) -> set[str]: ...
    def counts(self) -> tuple[int, int]: ...  # (pages, chunks)
    def read_snapshot(self) -> CatalogSnapshot: ...  # all of one version, read once

    def commit(self, changes: Iterable[PageChange], signature: dict, report: dict,
               sources: list[dict] | None = None) -> int: ...  # all at once; returns the new version
    def remember_file_keys(self, keys: dict[tuple[str, str], str]) -> None: ...  # no new version
    def clear(self) -> None: ...
    def lock(self) -> WriterLock: ...  # this index's writer lock, not yet acquired


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


class MetadataReads:
    """What both catalogs read from their metadata the same way; each gives `get_meta` and the
    `description` that names it in messages."""

    description: str

    def get_meta(self, key: str) -> str | None:
        raise NotImplementedError

    def signature(self) -> dict | None:
        raw = self.get_meta("signature")
        return json.loads(raw) if raw else None

    def check_signature(self, expected: dict, where: object) -> None:
        check_signature(self.signature(), expected, where)

    def recorded_sources(self) -> list[dict] | None:
        """The sources the index is built from (SourceSpec.to_record each); None for an index from
        before sources were recorded."""
        return recorded_sources_from(self.get_meta("sources"), self.description)
