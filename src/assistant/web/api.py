"""HTTP API under /api: routes parse input, call the Assistant, shape output.

    POST /api/ask           {question, history?, filters?} → {answer, answered, language, notice, citations}
    POST /api/ask/stream    the same body → Server-Sent Events: token*, citations, done (or error)
    POST /api/search        {query, k?, filters?} → {results}
    POST /api/feedback      {question, answer, citations, rating: up|down, comment?} → {ok, id}

Also here: the middleware that bounds request bodies (413) and the CORS policy (only the origins in
`settings.allowed_origins` may call the API from a browser). No answering logic lives here.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sse_starlette import EventSourceResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from assistant.errors import AssistantError, QuestionError, StorageFullError, StoreError
from assistant.models import Answer
from assistant.retrieve import Filters
from assistant.service import MAX_QUESTION_CHARS
from assistant.settings import Settings
from assistant.web.common import GENERIC_ERROR, answer_payload, friendly_error, trim_history

log = logging.getLogger("web")
UNREADABLE_BODY = "Forespørgslens indhold kunne ikke læses: send JSON i UTF-8."

MAX_BODY_BYTES = 64 * 1024

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


WEBHOOK_MAX_BYTES = 25 * 1024 * 1024  # what GitHub sends at most per delivery


class BodyLimit:
    """Refuses request bodies over their limit with 413, on every route the app mounts: by
    Content-Length when sent, and by counting the bytes as they arrive (chunked uploads have no
    Content-Length). `limits` maps path prefixes to larger limits (the longest prefix wins)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            await self._too_large(scope, receive, send, limit)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") and length is None:
            await self.app(scope, receive, send)  # no body: an SSE stream must not wait for one
            return
        # Read the body here (at most `limit` bytes are held) and hand it on in one piece.
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._too_large(scope, receive, send, limit)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size = f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        response = JSONResponse({"detail": f"Forespørgslen er for stor: højst {size}."},
                                status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


# Gradio routes that take files or edit the app: the chat needs none of them.
_REFUSED_GRADIO = ("/upload", "/process_recording", "/vibe-edit", "/undo-vibe-edit", "/vibe-code",
                   "/vibe-starter-queries")


class NoUploads:
    """Refuses file uploads into Gradio (403): an anonymous visitor must not be able to store files."""

    def __init__(self, app: ASGIApp, prefix: str = "/gradio_api") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(self.prefix):
            rest = path[len(self.prefix):].rstrip("/")
            content_type = Headers(scope=scope).get("content-type", "")
            if rest.startswith(_REFUSED_GRADIO) or content_type.lower().startswith("multipart/"):
                response = JSONResponse({"detail": "Upload af filer er slået fra."}, status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RateLimit:
    """At most `per_minute` requests per client (a sliding one-minute window) to anything under
    `prefix` and to every POST (Gradio's API included), except the `exempt` prefixes; more get 429
    with Retry-After. The client is the peer address, or the address a trusted proxy gives in
    X-Forwarded-For (ProxyHeadersMiddleware, `settings.trusted_proxies`). Counts are per process."""

    def __init__(self, app: ASGIApp, per_minute: int, prefix: str = "/api/", exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.per_minute = per_minute
        self.prefix = prefix
        self.exempt = exempt
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        counted = path.startswith(self.prefix) or scope.get("method") == "POST"
        if (scope["type"] != "http" or self.per_minute <= 0 or not counted
                or path.startswith(self.exempt) or scope.get("method") == "OPTIONS"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(client, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.per_minute:
                retry = max(1, int(60 - (now - window[0])) + 1)
                response = JSONResponse({"detail": f"For mange forespørgsler: højst {self.per_minute} i minuttet. "
                                                   f"Prøv igen om {retry} sekunder."},
                                        status_code=429, headers={"Retry-After": str(retry)})
            else:
                window.append(now)
                response = None
            if len(self._seen) > 10_000:  # forget idle clients
                for key in [k for k, w in self._seen.items() if not w or now - w[-1] >= 60]:
                    del self._seen[key]
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def allowed_origins(settings: Settings) -> list[str]:
    """`settings.allowed_origins` ("https://a.dk, https://b.dk") as a list, without trailing slashes."""
    return [origin.strip().rstrip("/") for origin in settings.allowed_origins.split(",") if origin.strip()]


class MethodNotAllowed:
    """405 with Allow for a route of the API asked with another method (`GET /api/ask`): without it
    the chat mounted at / answers 404 for every such request. The routes are the app's OpenAPI paths."""

    def __init__(self, app: ASGIApp, schema: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.schema = schema
        self._routes: list[tuple[re.Pattern[str], set[str]]] | None = None

    def routes(self) -> list[tuple[re.Pattern[str], set[str]]]:
        if self._routes is None:
            self._routes = []
            for path, operations in self.schema().get("paths", {}).items():
                methods = {m.upper() for m in operations}
                if "GET" in methods:
                    methods.add("HEAD")
                self._routes.append((compile_path(path)[0], methods | {"OPTIONS"}))
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for pattern, methods in self.routes():
                if pattern.match(scope["path"]):
                    if scope["method"] not in methods:
                        allow = ", ".join(sorted(methods))
                        response = JSONResponse({"detail": f"Metoden {scope['method']} bruges ikke her; brug {allow}."},
                                                status_code=405, headers={"Allow": allow})
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """From the inside out: 405s, body limits, uploads refused, rate limit, CORS (so a 413 or 429
    still carries the CORS headers a browser needs), then the trusted proxy's client address."""
    app.add_middleware(MethodNotAllowed, schema=app.openapi)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, limits={"/api/webhooks/": WEBHOOK_MAX_BYTES})
    app.add_middleware(NoUploads)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, prefix="/api/",
                       exempt=("/api/admin/", "/api/webhooks/"))
    app.add_middleware(CORSMiddleware, allow_origins=allowed_origins(settings), allow_credentials=False,
                       allow_methods=["GET", "POST", "OPTIONS"], allow_headers=["content-type"], max_age=600)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
