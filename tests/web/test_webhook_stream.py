"""The GitHub webhook's body (#22 item 6): read as it streams in, once, through the app's middleware;
unsigned requests and bodies over the limit are refused without reading the rest; a few at a time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import pytest
from fastapi import FastAPI

from assistant.settings import Settings
from assistant.web import admin
from assistant.web.admin import build_admin_router
from assistant.web.middleware import add_middleware

SECRET = "webhook-secret-7b1d-40c2-a9e5"
PIECE = b"x" * 1024


def make_app() -> FastAPI:
    settings = Settings(webhook_secret=SECRET, rate_limit_per_minute=0)
    app = FastAPI()
    app.state.settings = settings
    app.include_router(build_admin_router())
    add_middleware(app, settings)
    return app


class Body:
    """An endless request body, one piece per receive(); counts what was read. `hold`: wait before
    the first piece until released (a slow sender)."""

    def __init__(self, hold: bool = False) -> None:
        self.pieces = 0
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def receive(self) -> dict:
        self.entered.set()
        await self.release.wait()
        self.pieces += 1
        return {"type": "http.request", "body": PIECE, "more_body": True}


async def post(app: FastAPI, body: Body, headers: dict[str, str]) -> int:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/webhooks/github", "raw_path": b"/api/webhooks/github", "query_string": b"",
             "root_path": "", "client": ("192.0.2.1", 40000), "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    await app(scope, body.receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


SIGNED = {"X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha256).hexdigest(),
          "X-GitHub-Event": "push"}


def test_a_request_without_a_signature_is_refused_before_its_body_is_read():
    body = Body()
    assert asyncio.run(post(make_app(), body, {"X-GitHub-Event": "push"})) == 401
    assert body.pieces == 0


def test_a_chunked_body_over_the_limit_is_refused_when_the_limit_is_passed(monkeypatch):
    monkeypatch.setattr(admin, "WEBHOOK_MAX_BYTES", 64 * 1024)
    body = Body()
    assert asyncio.run(post(make_app(), body, SIGNED)) == 413
    assert body.pieces <= 65  # not the middleware's 25 MB, nor the whole endless body


def test_a_content_length_over_the_limit_is_refused_before_reading():
    body = Body()
    headers = {**SIGNED, "Content-Length": str(26 * 1024 * 1024)}
    assert asyncio.run(post(make_app(), body, headers)) == 413
    assert body.pieces == 0


@pytest.mark.parametrize("concurrent", [admin.WEBHOOK_CONCURRENT])
def test_more_webhook_bodies_at_once_than_the_cap_are_refused_at_once(monkeypatch, concurrent):
    monkeypatch.setattr(admin, "WEBHOOK_MAX_BYTES", 8 * 1024)

    async def scenario() -> tuple[int, list[int]]:
        app = make_app()
        slow = [Body(hold=True) for _ in range(concurrent)]
        tasks = [asyncio.create_task(post(app, b, SIGNED)) for b in slow]
        for b in slow:
            await b.entered.wait()  # each holds a slot, waiting for its body
        extra = Body()
        refused = await post(app, extra, SIGNED)
        for b in slow:
            b.release.set()
        return refused, [await t for t in tasks]

    refused, first = asyncio.run(scenario())
    assert refused == 429 and first == [413] * concurrent


def test_a_body_that_trickles_in_is_refused_after_the_deadline_and_frees_its_slot(monkeypatch):
    """Two clients sending a byte now and then held both slots for as long as they liked."""
    monkeypatch.setattr(admin, "WEBHOOK_READ_S", 0.2)
    monkeypatch.setattr(admin, "WEBHOOK_MAX_BYTES", 8 * 1024)

    async def scenario() -> tuple[list[int], int]:
        app = make_app()
        slow = [Body(hold=True) for _ in range(admin.WEBHOOK_CONCURRENT)]  # never released
        refused = await asyncio.gather(*(post(app, b, SIGNED) for b in slow))
        return list(refused), await post(app, Body(), SIGNED)

    slow, after = asyncio.run(scenario())
    assert slow == [408] * admin.WEBHOOK_CONCURRENT
    assert after == 413  # read (to its limit) in a slot the slow ones gave back
