"""One SQLite file of the index folder: opened the same way (WAL), and refused when it is there but
damaged. The catalog, the embedding cache and the check of embedded Chroma's database use it; it knows
no tables.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.errors import StoreError


def connect(path: Path) -> sqlite3.Connection:
    """A connection to one SQLite file of the index folder (the catalog, the embedding cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def check_sqlite_file(path: Path, what: str, fix: str) -> None:
    """Refuse a file that is there but is no whole SQLite database: an empty file is not a new index
    (that would replace what it records), a cut-off one not a smaller one."""
    if not path.is_file() or any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal")):
        # A -wal or -journal file beside it: the database is open (in this process too, perhaps) or a
        # write was interrupted, which SQLite rolls back itself. Opening and closing the file here would
        # drop this process's SQLite locks on it (POSIX locks belong to the process, not the descriptor),
        # and a half-written page count is no damage.
        return
    size = path.stat().st_size
    if size == 0:
        raise StoreError(f"{path} is empty (0 bytes) but should hold {what}; it is not taken for a new index, "
                         f"which would lose what it records: {fix}")
    with path.open("rb") as file:
        header = file.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise damaged(path, "not a SQLite database", fix)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] == header[92:96] and size < pages * page_size:  # the header's page count is valid
        raise damaged(path, f"cut off: {size} of {pages * page_size} bytes", fix)


def damaged(path: Path, why: object, fix: str) -> StoreError:
    return StoreError(f"{path} is damaged ({why}): {fix}")
