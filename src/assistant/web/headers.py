"""HEAD on every GET route, and the security headers of the pages people open. Pure ASGI.

`HeadAsGet`: FastAPI routes answer GET only, and the chat mounted at / then answers 404 for a HEAD
on any other page; this hands a HEAD on as a GET and sends the reply's status and headers without
its body (Content-Length stays that of the GET, as HTTP asks).

`SecurityHeaders`: every reply says `X-Content-Type-Options: nosniff`; HTML pages may be framed by
this app only (`X-Frame-Options: SAMEORIGIN`, CSP `frame-ancestors 'self'`) and load no plugins.
The user guide (`strict` prefixes) is the sources' own markdown and HTML, so its pages run no
script at all. What a route sets itself is kept: the admin's DENY (admin.AdminHeaders), and the
widget's script, which any site includes (`Cross-Origin-Resource-Policy: cross-origin`, no frame
rules: it runs in the host page's shadow DOM, not in a frame).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The chat (Gradio) builds its page with inline scripts and styles: its policy limits framing and
# plugins, not scripts.
PAGE_POLICY = "frame-ancestors 'self'; object-src 'none'; base-uri 'self'"
GUIDE_POLICY = ("default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
                "script-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def without_body(message: Message) -> None:
            nonlocal ended
            if message["type"] != "http.response.body":
                await send(message)
            elif not ended and not message.get("more_body", False):
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, without_body)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, strict: tuple[str, ...] = ()) -> None:
        self.app = app
        self.strict = strict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        policy = GUIDE_POLICY if self.strict and path.startswith(self.strict) else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers.setdefault("x-content-type-options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("x-frame-options", "SAMEORIGIN")
                    headers.setdefault("content-security-policy", policy)
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, with_headers)
