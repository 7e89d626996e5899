"""What the HTTP API, the Gradio chat and the MCP tools share: history trimming and answer shaping.

Nothing here decides what to answer; it only shapes what goes in and out of the Assistant. Errors
are turned into messages in failures.py.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, Field

from assistant.models import Answer, History, Turn

MAX_HISTORY_TURNS = 8
MAX_HISTORY_CHARS = 6000
MAX_TURN_CHARS = 8000  # one turn as a client may send it (the widget cuts its turns to this)


class TurnModel(BaseModel):
    """A turn as the HTTP API and the MCP tool `ask` receive it."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)

    def turn(self) -> Turn:
        return Turn(self.role, self.content)


def trim_history(turns: History, max_turns: int = MAX_HISTORY_TURNS, max_chars: int = MAX_HISTORY_CHARS) -> list[Turn]:
    """The last turns that fit: at most `max_turns`, together at most `max_chars` characters; older
    turns are dropped first."""
    kept: list[Turn] = []
    total = 0
    for turn in reversed(turns):
        if len(kept) == max_turns or total + len(turn.content) > max_chars:
            break
        kept.append(turn)
        total += len(turn.content)
    return kept[::-1]


def answer_payload(answer: Answer) -> dict:
    """The JSON shape of an answer for /api/ask, the stream's `citations` event and MCP's `ask`."""
    return {"answer": answer.text, "answered": answer.answered, "language": answer.language,
            "notice": answer.notice, "reason": answer.reason, "citations": [asdict(c) for c in answer.citations]}
