"""HTTP API under /api: routes parse input, call the Assistant, shape output.

    POST /api/ask           {question, history?, filters?} → {answer, answered, language, notice, reason, citations}
    POST /api/ask/stream    the same body → Server-Sent Events: token*, citations, done (or error)
    POST /api/search        {query, k?, filters?} → {results}
    POST /api/feedback      {question, answer, citations, rating: up|down, comment?} → {ok, id}

The limits every route shares (body size, rate, uploads, CORS, 405s) are in middleware.py; errors
become statuses and Danish messages in failures.py. No answering logic lives here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sse_starlette import EventSourceResponse

from assistant.models import MAX_QUESTION_CHARS, Answer, Turn
from assistant.retrieve.retriever import Filters
from assistant.serve.feedback import MAX_COMMENT_CHARS
from assistant.web.common import TurnModel, answer_payload, trim_history
from assistant.web.failures import failure

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS)]


class FilterModel(BaseModel):
    source: str | None = None
    path_prefix: str | None = None


class AskRequest(BaseModel):
    question: QuestionText
    history: list[TurnModel] = Field(default_factory=list, max_length=50)
    filters: FilterModel | None = None


class SearchRequest(BaseModel):
    query: QuestionText
    k: int = Field(8, ge=1, le=50)
    filters: FilterModel | None = None


class CitationIn(BaseModel):
    """A citation as /api/ask gave it, sent back with feedback: only its known fields, as strings."""

    model_config = ConfigDict(extra="ignore")
    n: int = Field(0, ge=0, le=100)
    title: str = Field("", max_length=500)
    breadcrumb: str = Field("", max_length=1000)
    heading: str = Field("", max_length=500)
    url: str = Field("", max_length=2000)
    fragment_url: str = Field("", max_length=4000)
    snippet: str = Field("", max_length=2000)
    score: float = Field(0.0, allow_inf_nan=False)
    source: str = Field("", max_length=200)
    path: str = Field("", max_length=1000)


class FeedbackRequest(BaseModel):
    question: QuestionText
    answer: str = Field(max_length=20000)
    citations: list[CitationIn] = Field(default_factory=list, max_length=20)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS)


def _filters(model: FilterModel | None) -> Filters | None:
    return Filters(model.source, model.path_prefix) if model else None


def _history(body: AskRequest) -> list[Turn]:
    return trim_history([t.turn() for t in body.history])


def _sse(event: str, data: dict) -> dict:
    return {"event": event, "data": json.dumps(data, ensure_ascii=False)}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/ask", summary="Answer a question with citations")
    def ask(body: AskRequest, request: Request) -> dict:
        answer = request.app.state.assistant.ask(body.question, _history(body), _filters(body.filters))
        payload = answer_payload(answer)
        request.app.state.feedback.log_question(body.question, answer.answered, payload["citations"], "api")
        return payload

    @router.post("/ask/stream", summary="Answer a question as Server-Sent Events",
                 response_class=EventSourceResponse,
                 description="Events: `token` {text} for each piece, then `citations` {answer, answered, "
                             "language, notice, citations} (its answer text is authoritative) and `done`; "
                             "or `error` {message} with a Danish message.")
    def ask_stream(body: AskRequest, request: Request) -> EventSourceResponse:
        assistant = request.app.state.assistant
        history, filters = _history(body), _filters(body.filters)

        def events() -> Iterator[dict]:  # synchronous: EventSourceResponse runs it in the thread pool
            try:
                for item in assistant.stream(body.question, history, filters):
                    if isinstance(item, Answer):
                        payload = answer_payload(item)
                        request.app.state.feedback.log_question(body.question, item.answered,
                                                                payload["citations"], "widget")
                        yield _sse("citations", payload)
                    else:
                        yield _sse("token", {"text": item})
            except Exception as exc:  # noqa: BLE001 - the person gets a message, the log the details
                yield _sse("error", {"message": failure(exc, "stream").message})
                return
            yield _sse("done", {})

        return EventSourceResponse(events(), ping=15, sep="\n", headers={"Cache-Control": "no-store"})

    @router.post("/search", summary="Ranked passages for a query")
    def search(body: SearchRequest, request: Request) -> dict:
        passages = request.app.state.assistant.search(body.query, body.k, _filters(body.filters))
        return {"results": [
            {"title": p.chunk.title, "breadcrumb": " › ".join(p.chunk.breadcrumb), "heading": p.chunk.heading,
             "url": p.chunk.url, "source": p.chunk.source, "path": p.chunk.path, "snippet": p.chunk.text[:280],
             "text": p.chunk.text, "score": round(p.score, 4)}
            for p in passages]}

    @router.post("/feedback", summary="Store a 👍/👎 on an answer")
    def feedback(body: FeedbackRequest, request: Request) -> dict:
        feedback_id = request.app.state.feedback.add(
            question=body.question, answer=body.answer, citations=[c.model_dump(exclude_unset=True) for c in body.citations],
            rating=body.rating,
            comment=(body.comment or "").strip(), channel="api")
        return {"ok": True, "id": feedback_id}

    return router

