"""The configured answerer, by name: `make_answerer(settings)` over the built-ins, extractive and LLM.

Each built-in registers itself in answerer.ANSWERERS when its module is imported (as a plugin would),
and this module imports them all; the LLM answerer loads langchain only when it first answers.
"""

from __future__ import annotations

from assistant.answer import extractive, llm  # noqa: F401 - importing each registers it
from assistant.answer.answerer import ANSWERERS, Answerer
from assistant.settings import Settings


def make_answerer(settings: Settings) -> Answerer:
    try:
        return ANSWERERS[settings.answerer](settings)
    except KeyError:
        raise ValueError(f"Unknown answerer {settings.answerer!r}; choose one of {sorted(ANSWERERS)}") from None
