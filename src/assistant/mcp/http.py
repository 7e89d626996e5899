"""/mcp in the web app: the MCP server over Streamable HTTP, behind the bearer token and an Origin check.

Stateless and with JSON replies: every POST is answered on its own, so any of several app instances
behind nginx can take it (no session to stick to) and a reply is one JSON body. The app's middleware
applies as to the API (64 KB bodies, the per-client rate limit); here only who may call is decided.
It does not define tools (server.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.mcp.server import build_server
from assistant.serve.feedback import FeedbackStore
from assistant.serve.service import Assistant
from assistant.settings import Settings
from assistant.web.cors import allowed_origins
from assistant.web.middleware import MAX_BODY_BYTES

PATH = "/mcp"
WRONG_TOKEN = ("Manglende eller forkert adgangsnøgle: send Authorization: Bearer <ASSISTANT_MCP_TOKEN> "
               "(missing or wrong token).")
FOREIGN_ORIGIN = ("En webside fra et andet site må ikke kalde /mcp (a web page from another site may not call /mcp): "
                  "tilføj sitet til ASSISTANT_ALLOWED_ORIGINS.")
ONLY_POST = "Send MCP-beskeder med POST (stateless Streamable HTTP: no GET stream, no sessions)."


class McpGuard:
    """Lets a request through to the MCP transport when it carries the token (if one is set) and does
    not come from a web page of a site the app does not allow: a page must not drive the tools from a
    visitor's browser, nor reach a server on localhost by DNS rebinding. Agents send no Origin."""

    def __init__(self, app: ASGIApp, token: str | None, origins: list[str]) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.origins = set(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            if self.token is not None and not self._authorized(headers.get("authorization", "")):
                reply = JSONResponse({"detail": WRONG_TOKEN}, status_code=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="mcp"'})
                await reply(scope, receive, send)
                return
            origin = headers.get("origin")
            if origin is not None and origin.rstrip("/") not in self.origins:
                await JSONResponse({"detail": FOREIGN_ORIGIN}, status_code=403)(scope, receive, send)
                return
            if scope["method"] != "POST":  # stateless: no SSE stream to listen on (GET), no session to end (DELETE)
                reply = JSONResponse({"detail": ONLY_POST}, status_code=405, headers={"Allow": "POST"})
                await reply(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _authorized(self, header: str) -> bool:
        assert self.token is not None
        given = header[7:].strip() if header[:7].lower() == "bearer " else ""
        return bool(given) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self.token)


def mount_mcp(app: FastAPI, settings: Settings, assistant: Callable[[], Assistant | None],
              feedback: FeedbackStore | None) -> StreamableHTTPSessionManager:
    """Add the /mcp route to `app` (before the chat takes /); the returned manager must run in the
    app's lifespan (`async with manager.run(): ...`)."""
    server = build_server(assistant, feedback)
    # The transport's own Host check knows only fixed host names (it would refuse the public name nginx
    # passes on): McpGuard checks the Origin instead. Its body limit is the app's.
    server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                               max_request_body_size=MAX_BODY_BYTES,
                               transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    manager = server.session_manager
    guard = McpGuard(StreamableHTTPASGIApp(manager), settings.mcp_token, allowed_origins(settings))
    app.router.routes.append(Route(PATH, endpoint=guard, include_in_schema=False))  # an ASGI app: every method
    return manager
