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


def test_questions_and_feedback_past_retention_are_purged_and_personal_data_masked(tmp_path):
    import time as _time

    from assistant.web.feedback import FeedbackStore

    store = FeedbackStore(tmp_path / "f.sqlite")
    store.log_question("Ring til mig på 12345678 om OS2forms", False, [], "api")
    store.add(question="Skriv til a@b.dk", answer="svar", citations=[], rating="down", comment="cpr 0102031234")
    assert [g["question"] for g in store.gap_questions()] == ["Ring til mig på [telefon] om OS2forms", "Skriv til [e-mail]"]
    assert store.get(1).comment == "cpr [cpr]"
    with store._lock, store._db:  # age the rows by 91 days
        store._db.execute("UPDATE questions SET created = ?", (_time.time() - 91 * 86400,))
        store._db.execute("UPDATE feedback SET created = ?", (_time.time() - 91 * 86400,))
    assert store.purge(90) == 2 and store.gap_questions(365) == [] and store.count() == 0
