"""HTTP API under /api: routes parse input, call the Assistant, shape output.

    POST /api/ask           {question, history?, filters?} → {answer, answered, language, notice, reason, citations}
    POST /api/ask/stream    the same body → Server-Sent Events: token*, citations, done (or error)
    POST /api/search        {query, k?, filters?} → {results}
    POST /api/feedback      {question, answer, citations, rating: up|down, comment?} → {ok, id}

The limits every route shares (body size, rate, uploads, CORS, 405s) are in middleware.py. No
answering logic lives here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException

from assistant.errors import AssistantError, QuestionError, StorageFullError, StoreError
from assistant.models import Answer
from assistant.retrieve import Filters
from assistant.service import MAX_QUESTION_CHARS
from assistant.web.common import GENERIC_ERROR, answer_payload, friendly_error, trim_history

log = logging.getLogger("web")
UNREADABLE_BODY = "Forespørgslens indhold kunne ikke læses: send JSON i UTF-8."

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS)]


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=8000)


class FilterModel(BaseModel):
    source: str | None = None
    path_prefix: str | None = None


class AskRequest(BaseModel):
    question: QuestionText
    history: list[Turn] = Field(default_factory=list, max_length=50)
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
    comment: str | None = Field(None, max_length=2000)


def _filters(model: FilterModel | None) -> Filters | None:
    return Filters(model.source, model.path_prefix) if model else None


def _history(body: AskRequest) -> list[dict]:
    return trim_history([t.model_dump() for t in body.history])


def _sse(event: str, data: dict) -> dict:
    return {"event": event, "data": json.dumps(data, ensure_ascii=False)}


def build_router(app: FastAPI) -> APIRouter:
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
                yield _sse("error", {"message": friendly_error(exc)})
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

    @app.exception_handler(RequestValidationError)
    def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": validation_message(exc.errors()), "errors": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        # FastAPI's own messages in the app's language: a body that is not JSON in UTF-8 (or nests too
        # deep, or has a number of thousands of digits) is "There was an error parsing the body".
        detail = UNREADABLE_BODY if exc.status_code == 400 and "parsing the body" in str(exc.detail) else exc.detail
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(QuestionError)
    def question_error(_: Request, exc: QuestionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StorageFullError)
    def storage_full(_: Request, exc: StorageFullError) -> JSONResponse:
        log.error("%s", exc)
        return JSONResponse({"detail": "Det kunne ikke gemmes lige nu: disken er fuld. Prøv igen senere."},
                            status_code=503)

    @app.exception_handler(StoreError)
    def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(AssistantError)
    def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=500)

    @app.exception_handler(Exception)
    def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        # A bug: JSON with a Danish message instead of Starlette's plain-text 500. Starlette re-raises
        # the exception after this reply, so the server still logs the traceback.
        return JSONResponse({"detail": GENERIC_ERROR}, status_code=500)

    return router


FIELD_NAMES = {"question": "Spørgsmålet", "query": "Søgningen", "history": "Samtalehistorikken",
               "answer": "Svaret", "citations": "Kilderne", "rating": "Vurderingen", "comment": "Kommentaren"}
EMPTY = {"question": "Spørgsmålet er tomt — skriv et spørgsmål.", "query": "Søgningen er tom — skriv et eller flere ord."}


def validation_message(errors: Any) -> str:
    """One Danish sentence per problem in a request body, e.g. 'Spørgsmålet er tomt — skriv et spørgsmål.'"""
    messages: list[str] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        field = loc[0] if loc else ""
        name = FIELD_NAMES.get(field, field or "Forespørgslen")
        kind, ctx = error.get("type", ""), error.get("ctx") or {}
        if kind == "string_too_short" and field in EMPTY:
            message = EMPTY[field]
        elif kind == "missing":
            message = f"{name} mangler."
        elif kind == "string_too_long":
            message = f"{name} må højst være {ctx.get('max_length')} tegn."
        elif kind == "too_long":
            message = f"{name} må højst have {ctx.get('max_length')} elementer."
        elif kind == "literal_error":
            message = f"{name} skal være {str(ctx.get('expected')).replace(' or ', ' eller ')}."
        elif kind == "json_invalid":
            message = "Forespørgslen er ikke gyldig JSON."
        elif kind in ("model_attributes_type", "dict_type") and not loc:
            message = "Forespørgslen skal være et JSON-objekt."
        else:
            message = f"{name} er ugyldig ({'.'.join(loc)}: {error.get('msg')})."
        if message not in messages:
            messages.append(message)
    return " ".join(messages) or "Forespørgslen er ugyldig."
