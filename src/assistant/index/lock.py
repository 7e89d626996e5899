"""The index's writer lock: one writer at a time per index (an ingest, or a repair of the vector store).

`WriterLock` is what the catalog hands out (`PageCatalog.lock()`) and what the store's vector check
takes; both import it from here, not from each other. `FileWriterLock` is an embedded index's lock, a
lock file; the Chroma server's catalog takes a lease record instead (catalog_server.ServerLease).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout

from assistant.errors import IngestLockedError


class WriterLock(Protocol):
    """One writer at a time per index: an ingest, or a repair of the vector store."""

    @property
    def is_locked(self) -> bool: ...
    def acquire(self) -> None: ...  # raises IngestLockedError when another writer has it
    def release(self) -> None: ...


class FileWriterLock:
    """The writer lock of an embedded index: a lock file the OS releases if the process dies."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(self.index_dir / "ingest.lock"))

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
