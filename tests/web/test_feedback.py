"""The SQLite feedback store."""

import sqlite3

import pytest

from assistant.web.feedback import FeedbackStore


def test_feedback_round_trips(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite")
    first = store.add(question="Hvem?", answer="Belcom [1]", citations=[{"n": 1, "url": "https://x/#y"}], rating="up")
    second = store.add(question="Hvad?", answer="…", citations=[], rating="down", comment="forkert", channel="chat")
    assert second == first + 1 and store.count() == 2
    got = store.get(second)
    assert (got.question, got.rating, got.comment, got.channel, got.citations) == ("Hvad?", "down", "forkert", "chat", [])
    assert store.get(first).citations == [{"n": 1, "url": "https://x/#y"}]
    store.close()


def test_feedback_survives_a_restart(tmp_path):
    FeedbackStore(tmp_path / "f.sqlite").add(question="q", answer="a", citations=[], rating="up")
    assert FeedbackStore(tmp_path / "f.sqlite").count() == 1


def test_unknown_rating_is_refused(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    with pytest.raises(ValueError):
        store.add(question="q", answer="a", citations=[], rating="meh")  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):  # the table refuses it too
        store._db.execute("INSERT INTO feedback (created, channel, rating, question, answer, citations) "
                          "VALUES (0, 'api', 'meh', 'q', 'a', '[]')")
