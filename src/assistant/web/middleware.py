"""What every route of the app passes through, from the inside out: the chat's page served as Danish,
405 for a known route asked with another method, body limits (413), no file uploads into Gradio, the
per-client rate limit (429), CORS (cors.py), and the client address a trusted proxy gives. Pure ASGI
(no BaseHTTPMiddleware): streams stay streams.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from assistant.settings import Settings
from assistant.web import texts
from assistant.web.cors import CORS, RefusedOrigins, allowed_origins
from assistant.web.headers import HeadAsGet, SecurityHeaders

MAX_BODY_BYTES = 64 * 1024
WEBHOOK_MAX_BYTES = 25 * 1024 * 1024  # what GitHub sends at most per delivery


class BodyLimit:
    """Refuses request bodies over their limit with 413, on every route the app mounts: by
    Content-Length when sent, and by counting the bytes as they arrive (chunked uploads have no
    Content-Length). `limits` maps path prefixes to larger limits (the longest prefix wins).
    Under a `streamed` prefix only Content-Length is checked and the body passes on as it arrives:
    its route counts it (the webhook, which hashes it on the way and should not hold it twice)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, limits: dict[str, int] | None = None,
                 streamed: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))
        self.streamed = streamed

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
        if (scope.get("method") in ("GET", "HEAD", "OPTIONS") and length is None) or \
                (self.streamed and scope["path"].startswith(self.streamed)):
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
        response = JSONResponse({"detail": texts.TOO_LARGE.format(size=size)},
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
                response = JSONResponse({"detail": texts.NO_UPLOADS}, status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RateLimit:
    """At most `per_minute` requests per client (a sliding one-minute window) to anything under
    `prefix` (one or several) and to every POST (Gradio's API included), except the `exempt` prefixes; more get 429
    with Retry-After. The client is the peer address, or the address a trusted proxy gives in
    X-Forwarded-For (ProxyHeadersMiddleware, `settings.trusted_proxies`). Counts are per process."""

    def __init__(self, app: ASGIApp, per_minute: int, prefix: str | tuple[str, ...] = "/api/",
                 exempt: tuple[str, ...] = ()) -> None:
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
                response = JSONResponse({"detail": texts.TOO_MANY_REQUESTS.format(per_minute=self.per_minute,
                                                                                  retry=retry)},
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
                        response = JSONResponse({"detail": texts.WRONG_METHOD.format(method=scope["method"], allow=allow)},
                                                status_code=405, headers={"Allow": allow})
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)


_HTML_LANG = re.compile(rb'(<html\b[^>]*?\blang=")en(")', re.IGNORECASE)


def danish(page: bytes) -> bytes:
    """Gradio's page template as Danish: `<html lang="en">` → `<html lang="da">` (Gradio has no option)."""
    return _HTML_LANG.sub(rb"\1da\2", page, count=1)


class DanishPage:
    """Serves the chat's HTML pages with lang="da", so screen readers read them as Danish. Only GET
    replies with an HTML body outside /api/ are read (the template is a few KB); everything else,
    streams included, passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = MutableHeaders(raw=list(message.get("headers", []))).get("content-type", "")
                if not content_type.startswith("text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = danish(bytes(body))
            headers = MutableHeaders(raw=list(start.get("headers", [])))
            if "content-length" in headers:
                headers["content-length"] = str(len(page))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, rewrite)


def add_middleware(app: FastAPI, settings: Settings, guide: tuple[str, ...] = ()) -> None:
    """From the inside out: 405s, body limits, uploads refused, rate limit, CORS (so a 413 or 429
    still carries the CORS headers a browser needs), security headers (headers.py; `guide`: the
    prefixes of the sites the app serves), HEAD as GET, then the trusted proxy's client address.
    Refused origins are noted in `app.state.refused_origins` (the widget's access check notes them too)."""
    app.add_middleware(DanishPage)
    app.add_middleware(MethodNotAllowed, schema=app.openapi)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, limits={"/api/webhooks/": WEBHOOK_MAX_BYTES},
                       streamed=("/api/webhooks/",))
    app.add_middleware(NoUploads)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, prefix=("/api/", "/mcp"),
                       exempt=("/api/admin/", "/api/webhooks/"))
    app.state.refused_origins = RefusedOrigins()
    app.add_middleware(CORS, refused=app.state.refused_origins, allow_origins=allowed_origins(settings),
                       allow_credentials=False, allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["content-type"], max_age=600)
    app.add_middleware(SecurityHeaders, strict=guide)
    app.add_middleware(HeadAsGet)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
