"""Feedback on answers (👍/👎 and an optional comment) and the log of questions, in a small SQLite file.

One FeedbackStore owns one connection, shared by the API's worker threads and the Gradio chat
behind a lock. Questions and comments are stored with personal data masked (privacy.py) and are
deleted after the retention period. It stores; the docs-gap report (gaps.py) analyses.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant.privacy import mask_personal_data

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
);
CREATE TABLE IF NOT EXISTS questions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    created   REAL NOT NULL,
    channel   TEXT NOT NULL,
    question  TEXT NOT NULL,
    answered  INTEGER NOT NULL,   -- 0 when the assistant abstained
    pages     TEXT NOT NULL       -- JSON list of the cited page titles and URLs
);
CREATE INDEX IF NOT EXISTS questions_created ON questions (created);
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
            self._db.executescript(SCHEMA)

    def add(self, *, question: str, answer: str, citations: list[dict[str, Any]], rating: Rating,
            comment: str = "", channel: str = "api") -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO feedback (created, channel, rating, question, answer, citations, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), channel, rating, mask_personal_data(question), answer,
                 json.dumps(citations, ensure_ascii=False), mask_personal_data(comment or "")),
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

    def log_question(self, question: str, answered: bool, citations: list[dict[str, Any]],
                     channel: str = "api") -> None:
        pages = [{"title": c.get("title", ""), "url": c.get("url", "")} for c in citations[:3]]
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO questions (created, channel, question, answered, pages) VALUES (?, ?, ?, ?, ?)",
                (time.time(), channel, mask_personal_data(question), int(answered), json.dumps(pages, ensure_ascii=False)))

    def purge(self, retention_days: float) -> int:
        """Delete questions and feedback older than the retention period; returns rows deleted."""
        cutoff = time.time() - retention_days * 86400
        with self._lock, self._db:
            deleted = self._db.execute("DELETE FROM questions WHERE created < ?", (cutoff,)).rowcount
            deleted += self._db.execute("DELETE FROM feedback WHERE created < ?", (cutoff,)).rowcount
        return int(deleted)

    def daily(self, days: int = 30) -> list[dict[str, Any]]:
        """Questions per day and how many were answered (vs abstained), oldest day first."""
        since = time.time() - days * 86400
        with self._lock:
            rows = self._db.execute(
                "SELECT date(created, 'unixepoch') AS day, COUNT(*), SUM(answered) FROM questions"
                " WHERE created >= ? GROUP BY day ORDER BY day", (since,)).fetchall()
        return [{"day": d, "questions": n, "answered": int(a or 0)} for d, n, a in rows]

    def gap_questions(self, days: int = 90) -> list[dict[str, Any]]:
        """Questions it abstained on, and questions whose answer got a 👎, with the pages shown."""
        since = time.time() - days * 86400
        with self._lock:
            abstained = self._db.execute(
                "SELECT question, pages FROM questions WHERE answered = 0 AND created >= ?", (since,)).fetchall()
            disliked = self._db.execute(
                "SELECT question, citations FROM feedback WHERE rating = 'down' AND created >= ?", (since,)).fetchall()
        out = [{"question": q, "reason": "abstained", "pages": json.loads(p)} for q, p in abstained]
        out += [{"question": q, "reason": "thumbs down",
                 "pages": [{"title": c.get("title", ""), "url": c.get("url", "")} for c in json.loads(c_)[:3]]}
                for q, c_ in disliked]
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
