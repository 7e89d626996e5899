"""The one edge for errors: each error's status and Danish message, and the details only in the log."""

import logging

import pytest

from assistant.errors import (
    ConfigError,
    EmbeddingError,
    IndexMismatchError,
    IndexMissingError,
    IngestLockedError,
    LLMError,
    QuestionError,
    SourceError,
    StorageFullError,
    StoreError,
)
from assistant.web import texts
from assistant.web.failures import failure, validation_message

DETAIL = "/srv/index/chroma.sqlite3: database is locked"  # what a maintainer reads, never a visitor


@pytest.mark.parametrize(("error", "status", "message"), [
    (StorageFullError, 503, texts.DISK_FULL),
    (StoreError, 503, texts.UNAVAILABLE),
    (IndexMissingError, 500, texts.UNAVAILABLE),
    (IndexMismatchError, 500, texts.UNAVAILABLE),
    (EmbeddingError, 500, texts.UNAVAILABLE),
    (LLMError, 500, texts.LLM_DOWN),
    (SourceError, 500, texts.GENERIC_ERROR),
    (IngestLockedError, 500, texts.GENERIC_ERROR),
    (ConfigError, 500, texts.GENERIC_ERROR),
])
def test_each_error_has_its_status_and_a_danish_message_and_the_details_go_to_the_log(error, status, message, caplog):
    with caplog.at_level(logging.WARNING, logger="web"):
        found = failure(error(DETAIL), "answer")
    assert (found.status, found.message) == (status, message)
    assert f"answer failed: {DETAIL}" in caplog.text


def test_a_question_error_is_a_422_with_its_own_message():
    found = failure(QuestionError("Skriv et spørgsmål — feltet er tomt."))
    assert (found.status, found.message) == (422, "Skriv et spørgsmål — feltet er tomt.")


def test_a_bug_is_a_500_with_the_generic_message_and_its_traceback_in_the_log(caplog):
    try:
        raise KeyError("chunk 42 at /srv/app.py")
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="web"):
            found = failure(exc, "stream")
    assert (found.status, found.message) == (500, texts.GENERIC_ERROR)
    assert caplog.records[-1].exc_info is not None and "stream failed" in caplog.text


def test_a_refused_body_is_one_danish_sentence_per_problem():
    errors = [{"loc": ("body", "question"), "type": "missing"},
              {"loc": ("body", "rating"), "type": "literal_error", "ctx": {"expected": "'up' or 'down'"}},
              {"loc": ("body", "question"), "type": "missing"}]
    assert validation_message(errors) == "Spørgsmålet mangler. Vurderingen skal være 'up' eller 'down'."
    assert validation_message([{"loc": ("body",), "type": "dict_type"}]) == "Forespørgslen skal være et JSON-objekt."
    assert validation_message([]) == "Forespørgslen er ugyldig."
