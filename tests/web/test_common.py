"""History trimming and friendly error messages shared by the API and the chat."""

from assistant.errors import LLMError, QuestionError, StoreError
from assistant.web.common import GENERIC_ERROR, friendly_error, trim_history


def turns(*sizes: int) -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": str(i) * size} for i, size in enumerate(sizes)]


def test_history_keeps_the_last_eight_turns():
    history = turns(*[10] * 12)
    assert trim_history(history) == history[-8:]


def test_history_drops_older_turns_beyond_6000_characters():
    history = turns(3000, 2500, 2500, 900)
    assert trim_history(history) == history[-3:]


def test_history_with_one_huge_last_turn_is_empty():
    assert trim_history(turns(10, 7000)) == []


def test_errors_become_short_danish_messages():
    assert friendly_error(QuestionError("Skriv et spørgsmål — feltet er tomt.")) == "Skriv et spørgsmål — feltet er tomt."
    assert "Sprogmodellen" in friendly_error(LLMError("connection refused to http://llm:8000"))
    assert "Dokumentationen kan ikke søges" in friendly_error(StoreError("chroma down at /srv/index"))
    assert friendly_error(KeyError("chunk 42")) == GENERIC_ERROR
