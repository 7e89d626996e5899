"""The embedding cache: model + text hash → vector, in its own SQLite file.

An unchanged chunk (or sentence) is never embedded twice, even if its page moved, and a run killed
halfway resumes where it was. It lives apart from the catalog so that it survives `--full`; its folder
is the index folder unless settings.embedding_cache_dir names another. It does not know which chunks
are live (catalog.py).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from assistant.errors import StoreError
from assistant.index.sqlite_file import check_sqlite_file, connect

log = logging.getLogger(__name__)


class EmbeddingCache:
    FILE = "embeddings.sqlite"

    def __init__(self, index_dir: Path) -> None:
        path = Path(index_dir) / self.FILE
        try:
            check_sqlite_file(path, "the embedding cache", "")
            self.db = self._open(path)
        except OSError as exc:  # unreadable (another user's file): say so, move nothing
            raise StoreError(f"Cannot read the embedding cache {path}: {exc}") from exc
        except (StoreError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, busy, I/O: not damage; never move a live file
                raise StoreError(f"Cannot open the embedding cache {path}: {exc}") from exc
            # Only a cache: what it held is embedded again when needed. Kept aside for a look, not deleted.
            aside = path.with_name(f"{self.FILE}.damaged-{int(time.time())}-{os.getpid()}-{threading.get_ident()}")
            log.warning("%s is damaged (%s): moved to %s and started empty; vectors are embedded again as needed",
                        path, exc, aside.name)
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{path}{suffix}").exists():
                    Path(f"{path}{suffix}").replace(f"{aside}{suffix}")
            self.db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = connect(path)
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, text_hash TEXT, vector BLOB, PRIMARY KEY (model, text_hash))"
        )
        return db

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
