"""HTTP API under /api: routes parse input, call the Assistant, shape output."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assistant.errors import AssistantError, QuestionError, StoreError
from assistant.retrieve import Filters
from assistant.service import MAX_QUESTION_CHARS


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=8000)


class FilterModel(BaseModel):
    source: str | None = None
    path_prefix: str | None = None


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    filters: FilterModel | None = None


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(8, ge=1, le=50)
    filters: FilterModel | None = None


def _filters(model: FilterModel | None) -> Filters | None:
    return Filters(model.source, model.path_prefix) if model else None


def build_router(app: FastAPI) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/ask", summary="Answer a question with citations")
    def ask(body: AskRequest, request: Request) -> dict:
        assistant = request.app.state.assistant
        history = [t.model_dump() for t in body.history][-8:]
        answer = assistant.ask(body.question, history, _filters(body.filters))
        return {"answer": answer.text, "answered": answer.answered, "language": answer.language,
                "citations": [asdict(c) for c in answer.citations]}

    @router.post("/search", summary="Ranked passages for a query")
    def search(body: SearchRequest, request: Request) -> dict:
        passages = request.app.state.assistant.search(body.query, body.k, _filters(body.filters))
        return {"results": [
            {"title": p.chunk.title, "breadcrumb": " › ".join(p.chunk.breadcrumb), "heading": p.chunk.heading,
             "url": p.chunk.url, "source": p.chunk.source, "path": p.chunk.path, "snippet": p.chunk.text[:280],
             "text": p.chunk.text, "score": round(p.score, 4)}
            for p in passages]}

    @app.exception_handler(QuestionError)
    def question_error(_: Request, exc: QuestionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StoreError)
    def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(AssistantError)
    def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=500)

    return router
