"""The one edge where errors become what a person reads: an HTTP status and a short Danish message
(texts.py). What a maintainer needs (the English message from errors.py, with its paths) goes to
the log, never into a reply.

    failure(exc, during)         → Failure(status, message): the API, the stream, the chat, MCP, /readyz
    install_error_handlers(app)  the FastAPI exception handlers (create_app installs them)
    validation_message(errors)   a request body the API refuses, one Danish sentence per problem

By error (errors.py):
    QuestionError                             422  its own message: written for the person who asked
    StorageFullError                          503  DISK_FULL
    StoreError                                503  UNAVAILABLE
    IndexMissingError, IndexMismatchError,
      EmbeddingError                          500  UNAVAILABLE
    LLMError                                  500  LLM_DOWN
    any other AssistantError                  500  GENERIC_ERROR
    anything else (a bug)                     500  GENERIC_ERROR; the traceback in the log

The admin routes that show an ingest job's own error (to a person with the admin token) show it as
the job reports it; that is not an exception and does not pass here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.errors import (
    AssistantError,
    EmbeddingError,
    IndexMismatchError,
    IndexMissingError,
    LLMError,
    QuestionError,
    StorageFullError,
    StoreError,
)
from assistant.web import texts

log = logging.getLogger("web")


@dataclass(frozen=True)
class Failure:
    status: int
    message: str  # Danish, for the person who asked


# (errors, status, message, log level); the first that matches wins.
KNOWN: list[tuple[type[AssistantError] | tuple[type[AssistantError], ...], int, str, int]] = [
    (StorageFullError, 503, texts.DISK_FULL, logging.ERROR),
    (StoreError, 503, texts.UNAVAILABLE, logging.WARNING),
    ((IndexMissingError, IndexMismatchError, EmbeddingError), 500, texts.UNAVAILABLE, logging.WARNING),
    (LLMError, 500, texts.LLM_DOWN, logging.WARNING),
    (AssistantError, 500, texts.GENERIC_ERROR, logging.WARNING),
]


def failure(exc: BaseException, during: str = "answer") -> Failure:
    """What the person is told about `exc`; the details are logged as "<during> failed: …"."""
    if isinstance(exc, QuestionError):
        return Failure(422, str(exc))  # nothing went wrong but the question
    for errors, status, message, level in KNOWN:
        if isinstance(exc, errors):
            log.log(level, "%s failed: %s", during, exc)
            return Failure(status, message)
    log.error("%s failed", during, exc_info=exc)
    return Failure(500, texts.GENERIC_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    """Every error a route raises as JSON `{"detail": <Danish message>}` with its status."""

    @app.exception_handler(AssistantError)
    def assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        found = failure(exc, request.url.path)
        return JSONResponse({"detail": found.message}, status_code=found.status)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": validation_message(exc.errors()), "errors": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        # FastAPI's own messages in the app's language: a body that is not JSON in UTF-8 (or nests too
        # deep, or has a number of thousands of digits) is "There was an error parsing the body".
        unreadable = exc.status_code == 400 and "parsing the body" in str(exc.detail)
        return JSONResponse({"detail": texts.UNREADABLE_BODY if unreadable else exc.detail},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        # A bug: JSON with a Danish message instead of Starlette's plain-text 500. Starlette re-raises
        # the exception after this reply, so the server logs the traceback (not logged twice here).
        return JSONResponse({"detail": texts.GENERIC_ERROR}, status_code=500)


def validation_message(errors: Any) -> str:
    """One Danish sentence per problem in a request body, e.g. 'Spørgsmålet er tomt — skriv et spørgsmål.'"""
    messages: list[str] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        field = loc[0] if loc else ""
        name = texts.FIELD_NAMES.get(field, field or texts.REQUEST)
        kind, ctx = error.get("type", ""), error.get("ctx") or {}
        if kind in ("model_attributes_type", "dict_type") and not loc:
            kind = "not_an_object"
        if kind == "string_too_short" and field in texts.EMPTY:
            message = texts.EMPTY[field]
        elif kind in texts.INVALID:
            message = texts.INVALID[kind].format(name=name, max_length=ctx.get("max_length"),
                                                 expected=str(ctx.get("expected")).replace(" or ", texts.OR))
        else:
            message = texts.INVALID_FIELD.format(name=name, where=".".join(loc), msg=error.get("msg"))
        if message not in messages:
            messages.append(message)
    return " ".join(messages) or texts.INVALID_REQUEST
