"""The SQLite feedback store (assistant/serve/feedback.py)."""

import sqlite3

import pytest

from assistant.serve.feedback import FeedbackStore


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

    from assistant.serve.feedback import FeedbackStore

    store = FeedbackStore(tmp_path / "f.sqlite")
    store.log_question("Ring til mig på 12345678 om OS2forms", False, [], "api")
    store.add(question="Skriv til a@b.dk", answer="svar", citations=[], rating="down", comment="cpr 0102031234")
    assert [g["question"] for g in store.gap_questions()] == ["Ring til mig på [telefon] om OS2forms", "Skriv til [e-mail]"]
    assert store.get(1).comment == "cpr [cpr]"
    with store._lock, store._db:  # age the rows by 91 days
        store._db.execute("UPDATE questions SET created = ?", (_time.time() - 91 * 86400,))
        store._db.execute("UPDATE feedback SET created = ?", (_time.time() - 91 * 86400,))
    assert store.purge(90) == 2 and store.gap_questions(365) == [] and store.count() == 0


def test_every_stored_text_field_is_masked(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    feedback_id = store.add(question="Hvad med 010190-1234?", answer="Ring 12-34-56-78 [1]", rating="down",
                            citations=[{"n": 1, "title": "Kontakt o'brien@kommune.dk", "snippet": "tlf. +45-12345678",
                                        "url": "https://x.dk/a.html"}], comment="min mail er a%b@x.dk")
    got = store.get(feedback_id)
    assert (got.question, got.answer, got.comment) == ("Hvad med [cpr]?", "Ring [telefon] [1]", "min mail er [e-mail]")
    assert got.citations == [{"n": 1, "title": "Kontakt [e-mail]", "snippet": "tlf. [telefon]", "url": "https://x.dk/a.html"}]


def test_a_lone_surrogate_is_stored_as_a_replacement_character(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    feedback_id = store.add(question="Hvad\ud800?", answer="a\udfff", rating="up", citations=[{"title": "x\ud83d"}])
    assert store.log_question("spørg\udc00", True, [{"title": "t\ud800", "url": "u"}])
    got = store.get(feedback_id)
    assert (got.question, got.answer, got.citations) == ("Hvad\ufffd?", "a\ufffd", [{"title": "x\ufffd"}])
    assert store.add(question="næste", answer="a", rating="up", citations=[]) == feedback_id + 1  # the connection is fine


def test_a_full_disk_loses_the_log_line_not_the_answer_and_feedback_says_why(small_disk, caplog):
    from assistant.errors import StorageFullError

    disk = small_disk("2m")
    store = FeedbackStore(disk.path / "feedback.sqlite")
    assert store.log_question("før", True, [])
    disk.fill()
    with caplog.at_level("WARNING"):
        results = [store.log_question(f"spørgsmål {i} " + "x" * 2000, True, []) for i in range(200)]
    assert not all(results) and "disken er fuld" in store.problem
    assert caplog.text.count("question not logged") == 1  # once, not once per question
    with pytest.raises(StorageFullError):
        for i in range(200):
            store.add(question=f"q{i} " + "y" * 2000, answer="a", rating="up", citations=[])


def test_a_store_that_cannot_be_opened_keeps_working_in_memory(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    store = FeedbackStore(blocked / "feedback.sqlite")
    assert store.problem and store.log_question("q", True, [])
    assert store.daily(1)[0]["questions"] == 1


def test_a_question_row_whose_created_is_not_a_number_is_left_out_of_the_counts_and_the_chart(tmp_path):
    import time as _time

    from assistant.web.admin import _bars

    store = FeedbackStore(tmp_path / "f.sqlite")
    store.log_question("Hvordan?", answered=True, citations=[])
    with store._lock, store._db:  # as a hand edit or an older version may have left them
        store._db.execute("INSERT INTO questions (created, channel, question, answered, pages) "
                          "VALUES ('i går', 'api', 'Tekst som dato', 1, '[]')")
        store._db.execute("INSERT INTO questions (created, channel, question, answered, pages) "
                          "VALUES (?, 'api', 'Svar som tekst', 'ja', '[]')", (_time.time(),))
        store._db.execute("INSERT INTO questions (created, channel, question, answered, pages) "
                          "VALUES (X'00ff', 'api', 'Bytes som dato', 0, '[]')")
    daily = store.daily(30)
    assert [d["questions"] for d in daily] == [2] and all(isinstance(d["day"], str) for d in daily)
    assert "<svg" in _bars(daily)
    assert sum(c["questions"] for c in store.by_channel(30)) == 2
    assert "<svg" in _bars([{"day": None, "questions": "x", "answered": None}, *daily])  # never a 500
