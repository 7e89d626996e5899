"""What the HTTP API and the Gradio chat share: history trimming, answer shaping, friendly errors.

Nothing here decides what to answer; it only shapes what goes in and out of the Assistant.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from assistant.errors import (
    AssistantError,
    EmbeddingError,
    IndexMismatchError,
    IndexMissingError,
    LLMError,
    QuestionError,
    StoreError,
)
from assistant.models import Answer

log = logging.getLogger("web")

MAX_HISTORY_TURNS = 8
MAX_HISTORY_CHARS = 6000

GENERIC_ERROR = "Beklager, noget gik galt. Prøv igen om lidt."
UNAVAILABLE = "Dokumentationen kan ikke søges i lige nu. Prøv igen om lidt."
LLM_DOWN = "Sprogmodellen svarer ikke lige nu. Prøv igen om lidt."


def trim_history(turns: list[dict], max_turns: int = MAX_HISTORY_TURNS,
                 max_chars: int = MAX_HISTORY_CHARS) -> list[dict]:
    """The last turns that fit: at most `max_turns`, together at most `max_chars` characters.

    Turns are `{"role": "user"|"assistant", "content": str}`; older turns are dropped first.
    """
    kept: list[dict] = []
    total = 0
    for turn in reversed(turns):
        content = str(turn.get("content") or "")
        if len(kept) == max_turns or total + len(content) > max_chars:
            break
        kept.append({"role": turn.get("role", "user"), "content": content})
        total += len(content)
    return kept[::-1]


def answer_payload(answer: Answer) -> dict:
    """The JSON shape of an answer for /api/ask and the stream's `citations` event."""
    return {"answer": answer.text, "answered": answer.answered, "language": answer.language,
            "notice": answer.notice, "reason": answer.reason, "citations": [asdict(c) for c in answer.citations]}


def friendly_error(exc: BaseException) -> str:
    """A short Danish message a person can act on; the details go to the log, never to the page."""
    if isinstance(exc, QuestionError):
        return str(exc)  # already written for the person who asked
    if isinstance(exc, LLMError):
        return LLM_DOWN
    if isinstance(exc, StoreError | IndexMissingError | IndexMismatchError | EmbeddingError):
        return UNAVAILABLE
    if isinstance(exc, AssistantError):
        log.warning("answer failed: %s", exc)
    else:
        log.exception("answer failed", exc_info=exc)
    return GENERIC_ERROR
