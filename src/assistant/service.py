"""The Assistant: the one object the CLI, the web chat, the HTTP API and the widget all call.

It validates the question, retrieves passages from one index snapshot, decides whether the evidence
is strong enough to answer, and has the configured answerer write the answer with citations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assistant.answer import Answerer, AnswerRequest, final_answer, make_answerer
from assistant.answer.citations import NOT_FOUND, not_found_answer  # noqa: F401 - NOT_FOUND re-exported
from assistant.answer.evidence import QueryEvidence
from assistant.answer.extractive import stream_words
from assistant.errors import QuestionError
from assistant.language import detect_language
from assistant.models import Answer
from assistant.retrieve import Filters, Passage, Query, Retriever, condense
from assistant.settings import Settings

MAX_QUESTION_CHARS = 2000

@dataclass
class Decision:
    answer: bool
    coverage: float
    dense: float


class Assistant:
    def __init__(self, settings: Settings, retriever: Retriever, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self.retriever = retriever
        self.answerer = answerer or make_answerer(settings)

    @classmethod
    def open(cls, settings: Settings) -> Assistant:
        return cls(settings, Retriever.open(settings))

    def search(self, query: str, k: int = 8, filters: Filters | None = None) -> list[Passage]:
        return self.retriever.search(clean_question(query), k, filters)

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None) -> Answer:
        return final_answer(self.stream(question, history, filters))

    def stream(self, question: str, history: list[dict] | None = None,
               filters: Filters | None = None) -> Iterator[str | Answer]:
        """Text pieces as they come, then the final Answer (whose text is authoritative)."""
        question = clean_question(question)
        language = detect_language(question)
        query = self.condense(question, history)
        snapshot = self.retriever.snapshot()  # one index version for the whole answer
        passages = self.retriever.search(query, 8, filters, snapshot=snapshot)
        evidence = QueryEvidence(question, snapshot)
        # A follow-up is judged with the terms it carries over ("hvad koster det?" alone covers little).
        judged = QueryEvidence(query.lexical_text, snapshot) if query.context else evidence
        decision = self.decide(judged, passages, language)
        if not decision.answer:
            answer = self.abstain(passages, language)
            yield from stream_words(answer.text)
            yield answer
            return
        request = AnswerRequest(question, language, passages, evidence, list(history or []))
        yield from self.answerer.stream(request)

    def condense(self, question: str, history: list[dict] | None) -> Query:
        """A follow-up as a standalone query: rewritten by the LLM when one is configured (falling
        back to the previous turn's terms if it fails), else by carrying the previous turn's terms."""
        carried = condense(question, history)
        rewrite = getattr(self.answerer, "condense_question", None)
        if history and carried.context and rewrite is not None:
            standalone = rewrite(question, history)
            if standalone:
                return Query(standalone)
        return carried

    def decide(self, evidence: QueryEvidence, passages: list[Passage], language: str) -> Decision:
        """Answer only when the passages cover enough of the question (Danish) or are close enough
        in meaning (English, whose words Danish pages do not contain)."""
        if not passages:
            return Decision(False, 0.0, 0.0)
        coverage = evidence.best_coverage(passages)
        dense = max(p.dense for p in passages[:3])
        if language == "en":
            ok = dense >= self.settings.abstain_dense or coverage >= self.settings.abstain_coverage
        else:
            # Mostly words the pages never use ("rødgrød", "fløde"): the topic is not in the docs.
            ok = coverage >= self.settings.abstain_coverage and evidence.unknown_share <= self.settings.abstain_unknown
        return Decision(ok, coverage, dense)

    def abstain(self, passages: list[Passage], language: str) -> Answer:
        return not_found_answer(passages, language)

    def status(self) -> dict:
        snap = self.retriever.snapshot()
        return {"version": snap.version, "pages": snap.pages, "chunks": len(snap.chunks),
                "sources": snap.sources, "last_ingest": snap.last_ingest}


def clean_question(question: str) -> str:
    text = " ".join((question or "").split())
    if not text:
        raise QuestionError("Skriv et spørgsmål — feltet er tomt.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"Spørgsmålet er for langt ({len(text)} tegn); højst {MAX_QUESTION_CHARS} tegn.")
    return text
