"""How `python app.py` (uvicorn, with no proxy in front) treats connections.

Uvicorn closes an idle kept-alive connection (timeout_keep_alive), but a connection that starts a
request and never finishes it is kept for ever: its keep-alive timer stops at the first byte, and
there is none before the first request. `ReadTimeouts` closes a connection whose request headers
are not complete HEADER_TIMEOUT_S after it opened (or after the previous answer), and one whose body
stops arriving for BODY_IDLE_TIMEOUT_S, as nginx's client_header_timeout and client_body_timeout do
(deploy/nginx.conf). `server_options` adds uvicorn's own limits: at most LIMIT_CONCURRENCY connections
and requests at once (503 beyond), KEEP_ALIVE_S. It does not limit how long an answer takes (an
LLM may be slow) nor how many requests a client makes (middleware.RateLimit).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_S = 10.0  # to send a request's headers, from the connection (or the last answer) on
BODY_IDLE_TIMEOUT_S = 30.0  # between two pieces of a request body
KEEP_ALIVE_S = 5  # an idle kept-alive connection is closed after this (uvicorn's default, named)
LIMIT_CONCURRENCY = 200  # connections and requests at once; more get 503 at once

log = logging.getLogger("web.connections")


class ReadTimeouts(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request is not read in time."""

    _read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(HEADER_TIMEOUT_S)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:  # this request's headers are in
            if cycle.more_body:
                self._arm(BODY_IDLE_TIMEOUT_S)
            else:
                self._disarm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol takes the connection over, with its own ping timeout
        super().handle_websocket_upgrade()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(HEADER_TIMEOUT_S)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _expired(self) -> None:
        self._read_timer = None
        cycle = self.cycle
        if cycle is None or cycle.response_complete or cycle.more_body:  # a request not (wholly) read
            log.info("closed a connection from %s: its request was not sent in time",
                     self.client[0] if self.client else "?")
            self.transport.close()


def server_options() -> dict[str, Any]:
    """uvicorn.run's keyword arguments for connections (with ReadTimeouts as the HTTP protocol)."""
    return {"http": ReadTimeouts, "limit_concurrency": LIMIT_CONCURRENCY, "timeout_keep_alive": KEEP_ALIVE_S}
