"""Answerers: extractive (default, no LLM) and LLM (langchain chat models), behind one protocol.

An answerer gets an AnswerRequest (question, language, the retrieved passages, how well they cover
the question) and streams: zero or more text pieces, then exactly one final Answer whose text is
authoritative (a client replaces what it streamed with it, e.g. after an LLM fallback).
Built-ins register by name in ANSWERERS (`register`); factory.py's `make_answerer(settings)` picks the
configured one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from assistant.answer.evidence import QueryEvidence
from assistant.answer.meaning import SentenceScorer
from assistant.models import Answer, Turn
from assistant.retrieve.retriever import Passage
from assistant.settings import Settings


@dataclass
class AnswerRequest:
    question: str
    language: str  # "da" or "en": the answer's language
    passages: list[Passage]
    evidence: QueryEvidence
    history: list[Turn] = field(default_factory=list)
    score: SentenceScorer | None = None  # sentences → similarity to the question (answer/meaning.py)
    parts: list[SentenceScorer] = field(default_factory=list)  # the same per question a compound one asks


class Answerer(Protocol):
    name: str

    def stream(self, request: AnswerRequest) -> Iterator[str | Answer]: ...


ANSWERERS: dict[str, Callable[[Settings], Answerer]] = {}


def register(name: str) -> Callable[[Callable[[Settings], Answerer]], Callable[[Settings], Answerer]]:
    def add(factory: Callable[[Settings], Answerer]) -> Callable[[Settings], Answerer]:
        ANSWERERS[name] = factory
        return factory

    return add


def final_answer(events: Iterator[str | Answer]) -> Answer:
    """Run a stream to its end and return the final Answer."""
    answer = None
    for event in events:
        if isinstance(event, Answer):
            answer = event
    if answer is None:
        raise RuntimeError("answerer stream ended without an answer")
    return answer
