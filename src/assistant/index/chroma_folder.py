"""Embedded Chroma's folder: opened as a client, and told apart when it is damaged.

A folder whose database is not SQLite, is cut off or fails SQLite's quick_check is damaged: store.open_store
moves it aside (kept for a look) and starts it empty, and check_vectors writes the vectors again from the
embedding cache. A full disk or a folder this user cannot write to is not damage: moving the folder would
not mend it, and the error says what to check. This module does not know collections or vectors (store.py).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from assistant.errors import StoreError, is_disk_full
from assistant.index.sqlite_file import check_sqlite_file

CHROMA_FILE = "chroma.sqlite3"  # embedded Chroma's database in its folder


def embedded_client(folder: Path) -> tuple[Any, str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        folder.mkdir(parents=True, exist_ok=True)
        check_sqlite_file(folder / CHROMA_FILE, "the vectors", "")
        client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as exc:  # noqa: BLE001
        _forget_client(folder)
        raise StoreError(f"Cannot open the embedded vector store {folder}: {exc}. Check that it is a folder this "
                         "user can write to on a disk with free space, or move it away: the app writes the "
                         "vectors again from the embedding cache when it starts") from exc
    return client, f"embedded Chroma in {folder}"


def _forget_client(folder: Path) -> None:
    """Chroma keeps one client per folder in the process, a broken one too: forget it, so that the next
    client of this folder opens it anew."""
    from chromadb.api.shared_system_client import SharedSystemClient

    getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(folder), None)
    getattr(SharedSystemClient, "_identifier_to_refcount", {}).pop(str(folder), None)


def move_aside(folder: Path, damage: str) -> Path:
    """Rename a damaged folder to chroma.damaged-<time> beside it; StoreError naming both when it cannot."""
    _forget_client(folder)
    aside = folder.with_name(f"chroma.damaged-{int(time.time())}")
    try:
        folder.rename(aside)
    except OSError as exc:
        raise StoreError(f"The vector store {folder} is damaged ({damage}) and cannot be moved aside to {aside.name} "
                         f"({exc}): move it away yourself, then start again; the vectors are written again from "
                         "the embedding cache") from exc
    return aside


def chroma_damage(folder: Path, exc: BaseException) -> str | None:
    """Why the embedded Chroma database in `folder` is damaged, or None when it is whole (or the
    error was a full disk, which moving the folder would not mend)."""
    path = folder / CHROMA_FILE
    if not folder.is_dir() or not path.is_file() or is_disk_full(exc, folder):
        return None
    if path.stat().st_size == 0:
        return f"{CHROMA_FILE} is empty (0 bytes)"
    try:
        check_sqlite_file(path, "the vectors", "")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
    except StoreError as damaged:  # "<path> is damaged (why): "
        return f"{CHROMA_FILE} {str(damaged).removeprefix(str(path)).strip(' :')}"
    except (sqlite3.OperationalError, OSError):  # locked, busy, unreadable: not damage, never moved aside
        return None
    except sqlite3.DatabaseError as damaged:
        return None if is_disk_full(damaged, folder) else f"{CHROMA_FILE} fails SQLite's check: {damaged}"
    return None if result == "ok" else f"{CHROMA_FILE}: {result}"
