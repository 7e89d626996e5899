"""Feedback on answers (👍/👎 and an optional comment) in a small SQLite file.

One FeedbackStore owns one connection, shared by the API's worker threads and the Gradio chat
behind a lock. It stores what people sent; it does not analyse it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Rating = Literal["up", "down"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    created   REAL NOT NULL,
    channel   TEXT NOT NULL,      -- where it came from: api (widget or client) or chat
    rating    TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question  TEXT NOT NULL,
    answer    TEXT NOT NULL,
    citations TEXT NOT NULL,      -- JSON list of the citations shown with the answer
    comment   TEXT NOT NULL DEFAULT ''
)
"""


@dataclass
class Feedback:
    id: int
    created: float
    channel: str
    rating: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    comment: str


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)

    def add(self, *, question: str, answer: str, citations: list[dict[str, Any]], rating: Rating,
            comment: str = "", channel: str = "api") -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO feedback (created, channel, rating, question, answer, citations, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), channel, rating, question, answer, json.dumps(citations, ensure_ascii=False),
                 comment or ""),
            )
            return int(cursor.lastrowid or 0)

    def get(self, feedback_id: int) -> Feedback | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, created, channel, rating, question, answer, citations, comment FROM feedback WHERE id = ?",
                (feedback_id,),
            ).fetchone()
        if row is None:
            return None
        return Feedback(id=row[0], created=row[1], channel=row[2], rating=row[3], question=row[4], answer=row[5],
                        citations=json.loads(row[6]), comment=row[7])

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
