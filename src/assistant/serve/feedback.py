"""Feedback on answers (👍/👎 and an optional comment) and the log of questions, in a small SQLite file.

One FeedbackStore owns one connection, shared by the API's worker threads, the Gradio chat and the
MCP tools behind a lock. Every text it keeps (question, answer, comment, each citation field) is
stored with personal data masked (privacy.py) and lone surrogates replaced, and is deleted after the
retention period. Logging questions is best effort: a full or read-only disk never costs a person their
answer (the failure is logged at most once a minute). It stores; the docs-gap report (gaps.py) analyses,
and the routes that take feedback are in web/.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant.errors import StorageFullError, is_disk_full
from assistant.serve.privacy import mask_personal_data

log = logging.getLogger("feedback")

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000  # of a comment on an answer, in the API and the chat

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


_SURROGATE = re.compile("[\ud800-\udfff]")
LOG_EVERY_S = 60.0


def clean_text(text: str) -> str:
    """What is stored of a text: lone surrogates (JSON allows them, UTF-8 does not) replaced, personal
    data masked."""
    return mask_personal_data(_SURROGATE.sub("\ufffd", text))


def clean_citation(citation: dict[str, Any]) -> dict[str, Any]:
    return {str(key)[:64]: clean_text(value) if isinstance(value, str) else value
            for key, value in citation.items() if isinstance(value, str | int | float | bool) or value is None}


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._last_warning = float("-inf")
        self.problem = ""  # why questions are not being kept, for the admin page; "" when all is well
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            with self._lock, self._db:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            # A full or read-only disk must not keep the assistant from answering: keep this run's
            # feedback in memory and say so.
            self.problem = _problem(self.path, exc)
            log.error("%s; questions and feedback are kept in memory only until restart", self.problem)
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
            self._db.executescript(SCHEMA)

    def add(self, *, question: str, answer: str, citations: list[dict[str, Any]], rating: Rating,
            comment: str = "", channel: str = "api") -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        try:
            return self._insert_feedback(question, answer, citations, rating, comment, channel)
        except (sqlite3.Error, OSError) as exc:
            if is_disk_full(exc):
                raise StorageFullError(f"Feedback could not be stored: {_problem(self.path, exc)}") from exc
            raise

    def _insert_feedback(self, question: str, answer: str, citations: list[dict[str, Any]], rating: Rating,
                         comment: str, channel: str) -> int:
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO feedback (created, channel, rating, question, answer, citations, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), channel, rating, clean_text(question), clean_text(answer),
                 json.dumps([clean_citation(c) for c in citations], ensure_ascii=False), clean_text(comment or "")),
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
                     channel: str = "api") -> bool:
        """Keep a question for the statistics and the docs-gap report; False when it could not be kept
        (the caller answers anyway)."""
        pages = [clean_citation({"title": c.get("title", ""), "url": c.get("url", "")}) for c in citations[:3]]
        try:
            with self._lock, self._db:
                self._db.execute(
                    "INSERT INTO questions (created, channel, question, answered, pages) VALUES (?, ?, ?, ?, ?)",
                    (time.time(), channel, clean_text(question), int(answered), json.dumps(pages, ensure_ascii=False)))
        except (sqlite3.Error, OSError) as exc:
            self.problem = _problem(self.path, exc)
            now = time.monotonic()
            if now - self._last_warning >= LOG_EVERY_S:
                self._last_warning = now
                log.warning("question not logged (answered anyway): %s", self.problem)
            return False
        self.problem = ""
        return True

    def purge(self, retention_days: float) -> int:
        """Delete questions and feedback older than the retention period; returns rows deleted."""
        cutoff = time.time() - retention_days * 86400
        try:
            with self._lock, self._db:
                deleted = self._db.execute("DELETE FROM questions WHERE created < ?", (cutoff,)).rowcount
                deleted += self._db.execute("DELETE FROM feedback WHERE created < ?", (cutoff,)).rowcount
        except (sqlite3.Error, OSError) as exc:
            self.problem = _problem(self.path, exc)
            log.error("old questions and feedback not deleted: %s", self.problem)
            return 0
        return int(deleted)

    def daily(self, days: int = 30) -> list[dict[str, Any]]:
        """Questions per day and how many were answered (vs abstained), oldest day first."""
        return [{"day": d, "questions": n, "answered": a} for d, n, a in self._counts("date(created, 'unixepoch')", days)]

    def by_channel(self, days: int = 30) -> list[dict[str, Any]]:
        """Questions per channel (chat, api — the widget and clients —, mcp) and how many were answered."""
        rows = sorted(self._counts("channel", days), key=lambda row: -row[1])
        return [{"channel": c, "questions": n, "answered": a} for c, n, a in rows]

    def _counts(self, group: str, days: int) -> list[tuple[str, int, int]]:
        """(group, questions, answered) of the last `days` days; `group` is one of the SQL expressions above.
        A row whose `created` is not a number (a hand edit, an older version) has no day: left out, as
        SQLite would otherwise sort text after every number and count it in every period."""
        since = time.time() - days * 86400
        with self._lock:
            rows = self._db.execute(
                f"SELECT {group} AS g, COUNT(*), SUM(typeof(answered) IN ('integer', 'real') AND answered != 0)"  # noqa: S608
                " FROM questions WHERE typeof(created) IN ('integer', 'real') AND created >= ? AND g IS NOT NULL"
                " GROUP BY g ORDER BY g", (since,)).fetchall()
        return [(str(g), int(n), int(a or 0)) for g, n, a in rows]

    def gap_questions(self, days: int = 90) -> list[dict[str, Any]]:
        """Questions it abstained on, and questions whose answer got a 👎, with the pages shown."""
        since = time.time() - days * 86400
        with self._lock:
            abstained = self._db.execute(
                "SELECT question, pages FROM questions WHERE answered = 0 AND created >= ?", (since,)).fetchall()
            disliked = self._db.execute(
                "SELECT question, citations FROM feedback WHERE rating = 'down' AND created >= ?", (since,)).fetchall()
        out = [{"question": q, "reason": "abstained", "pages": _pages(p)} for q, p in abstained]
        out += [{"question": q, "reason": "thumbs down", "pages": _pages(c)} for q, c in disliked]
        return [item for item in out if isinstance(item["question"], str)]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _pages(raw: Any) -> list[dict[str, str]]:
    """The first three pages of a stored JSON list, as {title, url} strings; a row written by an older
    version or damaged by hand gives what can be read of it, never an exception."""
    try:
        items = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return []
    if not isinstance(items, list):
        return []
    pages = []
    for item in items[:3]:
        if isinstance(item, dict):
            title, url = item.get("title", ""), item.get("url", "")
            pages.append({"title": title if isinstance(title, str) else "", "url": url if isinstance(url, str) else ""})
    return pages


def _problem(path: Path, exc: BaseException) -> str:
    if is_disk_full(exc):
        return f"disken er fuld ({path}): frigør plads på disken"
    return f"{path} kan ikke skrives ({exc})"
