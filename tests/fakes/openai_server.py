"""A real HTTP fake of the OpenAI chat completions API, scriptable per test.

`POST /v1/chat/completions` answers like the OpenAI API: a `chat.completion` JSON body, or with
`"stream": true` Server-Sent Events (`data: {chunk}` with `choices[0].delta.content`, then
`data: [DONE]`), sent with chunked transfer encoding as the tokens are produced. Every request body and
its headers are recorded, so tests can check the prompt. Behaviour is set per test: the reply text, a
delay per token, a stall before the response, a hang mid-stream, an HTTP error status, garbage bodies.

It listens on 127.0.0.1 on a free port and stops at fixture teardown (hanging replies are released).

    def test_x(fake_openai):
        fake_openai.reply("OS2forms vedligeholdes af Belcom [1].")
        settings = Settings(llm_base_url=fake_openai.url, ...)
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

HOST = "127.0.0.1"
GARBAGE_KINDS = ("html", "json", "sse", "shape")


@dataclass(frozen=True)
class Behaviour:
    text: str = "Det står i kilderne [1]."
    status: int = 200  # anything else: an OpenAI-style error body with this status
    garbage: str | None = None  # "html", "json" (invalid JSON), "sse" (invalid event), "shape" (wrong fields)
    stall: float = 0.0  # seconds to wait before the status line (a slow or hung server)
    delay: float = 0.0  # seconds to wait before each streamed token
    hang_after: int | None = None  # stream this many tokens, then hang (until released or hang_seconds)
    hang_seconds: float = 60.0


def tokens(text: str) -> list[str]:
    """The reply in stream pieces, as a model would send them (a word and its trailing space)."""
    return re.findall(r"\S+\s*|\s+", text)


def unused_url() -> str:
    """A base URL where nothing listens (the port was free a moment ago): a server that is down."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    return f"http://{HOST}:{port}/v1"


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads: nothing outlives the fixture
    block_on_close = True
    fake: FakeOpenAI


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # socket timeout: a client that stops reading cannot keep a handler thread forever

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._json(404, {"error": {"message": "Not found", "type": "invalid_request_error", "param": None,
                                   "code": None}})

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_raw": raw}
        fake._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self.do_GET()
        how = fake._next()
        try:
            if how.stall and fake._closing.wait(how.stall):
                return
            if how.status != 200:
                return self._json(how.status, {"error": {"message": "The server had an error", "type": "server_error",
                                                         "param": None, "code": None}})
            if how.garbage:
                return self._garbage(how.garbage, bool(body.get("stream")))
            if body.get("stream"):
                return self._stream(how, body)
            return self._json(200, completion(how.text, body.get("model", "fake")))
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return None  # the client gave up (its timeout): nothing more to say

    # -- responses ---------------------------------------------------------------------------------

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _garbage(self, kind: str, stream: bool) -> None:
        if kind == "html":
            self._send(200, "text/html", b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>")
        elif kind == "json":
            self._send(200, "application/json", b'{"id": "chatcmpl-x", "choices": [{"message": {"con')
        elif kind == "shape":
            self._json(200, {"hello": "world", "choices": "none"})
        elif kind == "sse":
            self._start_events()
            self._event("{this is not json")
            self._event("[DONE]")
            self._end_events()
        else:
            raise ValueError(f"unknown garbage kind {kind!r}; one of {GARBAGE_KINDS}")

    def _start_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _end_events(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _stream(self, how: Behaviour, body: dict) -> None:
        fake = self.server.fake
        model = body.get("model", "fake")
        ident, created = f"chatcmpl-fake{len(fake.requests)}", int(time.time())
        self._start_events()
        self._event(json.dumps(chunk(ident, created, model, {"role": "assistant", "content": "", "refusal": None})))
        for i, piece in enumerate(tokens(how.text)):
            if how.hang_after is not None and i >= how.hang_after:
                fake._closing.wait(how.hang_seconds)
                return
            if how.delay and fake._closing.wait(how.delay):
                return
            self._event(json.dumps(chunk(ident, created, model, {"content": piece})))
        if how.hang_after is not None:  # asked to hang after the whole text
            fake._closing.wait(how.hang_seconds)
            return
        self._event(json.dumps(chunk(ident, created, model, {}, finish="stop")))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                     "system_fingerprint": "fp_fake", "choices": [], "usage": _usage(how.text)}
            self._event(json.dumps(usage))
        self._event("[DONE]")
        self._end_events()


def chunk(ident: str, created: int, model: str, delta: dict, finish: str | None = None) -> dict:
    return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def completion(text: str, model: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None,
                                                 "annotations": []},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": _usage(text)}


def _usage(text: str) -> dict:
    n = len(tokens(text))
    return {"prompt_tokens": 100, "completion_tokens": n, "total_tokens": 100 + n}


class FakeOpenAI:
    """The running fake. Setters change the behaviour of every following request; `once(...)` queues
    a behaviour for just the next request (queued ones are used first, in order)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []  # request bodies, in order
        self.headers: list[dict] = []  # their HTTP headers (names in lower case)
        self.paths: list[str] = []
        self.behaviour = Behaviour()
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server((HOST, 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                         name="fake-openai", daemon=True)
        self._thread.start()

    # -- behaviour ---------------------------------------------------------------------------------

    def set(self, **changes: Any) -> FakeOpenAI:
        """Replace the behaviour (fields of Behaviour; unspecified ones go back to their defaults)."""
        self.behaviour = Behaviour(**changes)
        return self

    def once(self, **changes: Any) -> FakeOpenAI:
        self._queue.append(Behaviour(**changes))
        return self

    def reply(self, text: str, delay: float = 0.0) -> FakeOpenAI:
        return self.set(text=text, delay=delay)

    def fail(self, status: int = 500) -> FakeOpenAI:
        return self.set(status=status)

    def garbage(self, kind: str = "json") -> FakeOpenAI:
        if kind not in GARBAGE_KINDS:
            raise ValueError(f"unknown garbage kind {kind!r}; one of {GARBAGE_KINDS}")
        return self.set(garbage=kind)

    def hang(self, after_tokens: int = 1, text: str | None = None, seconds: float = 60.0) -> FakeOpenAI:
        return self.set(text=text or Behaviour.text, hang_after=after_tokens, hang_seconds=seconds)

    def stall(self, seconds: float = 60.0) -> FakeOpenAI:
        return self.set(stall=seconds)

    def _next(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else replace(self.behaviour)

    def _record(self, path: str, headers: dict, body: dict) -> None:
        with self._lock:
            self.paths.append(path)
            self.headers.append(headers)
            self.requests.append(body)

    # -- inspection --------------------------------------------------------------------------------

    @property
    def last(self) -> dict:
        return self.requests[-1]

    def messages(self, index: int = -1) -> list[dict]:
        """The chat messages of a recorded request, as sent."""
        return self.requests[index].get("messages", [])

    # -- lifecycle ---------------------------------------------------------------------------------

    def stop(self) -> None:
        self._closing.set()  # releases stalled and hanging replies
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join(timeout=5)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    try:
        yield server
    finally:
        server.stop()
