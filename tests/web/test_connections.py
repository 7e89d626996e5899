"""The bare app's connections (#22 item 13): a request never finished is closed, on a real uvicorn
with the app's options and short timeouts; uvicorn's own limits are set."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from assistant.web import connections


async def hello(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
        return
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def server(monkeypatch) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(connections, "HEADER_TIMEOUT_S", 0.3)
    monkeypatch.setattr(connections, "BODY_IDLE_TIMEOUT_S", 0.3)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    options = connections.server_options()
    served = uvicorn.Server(uvicorn.Config(hello, log_level="warning", lifespan="off", **options))
    thread = threading.Thread(target=served.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not served.started:
        assert thread.is_alive()
        time.sleep(0.02)
    yield sock.getsockname()
    served.should_exit = True
    thread.join(10)
    sock.close()


def closed_by_server(address: tuple[str, int], sent: bytes) -> bytes:
    """What the server sends before it closes the connection (b"" when it sends nothing); fails
    when it is still open after 10 s."""
    with socket.create_connection(address) as client:
        client.settimeout(10)
        client.sendall(sent)
        received = b""
        while piece := client.recv(4096):
            received += piece
        return received


def test_a_connection_that_never_finishes_its_headers_is_closed(server):
    assert closed_by_server(server, b"GET / HTTP/1.1\r\nHost: x\r\n") == b""


def test_a_connection_that_sends_nothing_is_closed(server):
    assert closed_by_server(server, b"") == b""


def test_a_body_that_stops_arriving_is_closed(server):
    assert b"200" not in closed_by_server(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")


def test_a_whole_request_is_answered_and_the_next_one_must_come_in_time(server):
    received = closed_by_server(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive, then closed
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(b"ok")


def test_a_websocket_is_not_closed_by_the_header_timer(server):
    """The timer armed for the request's headers was left running when uvicorn handed the connection
    to its WebSocket protocol: an open WebSocket was closed HEADER_TIMEOUT_S later."""
    with socket.create_connection(server) as client:
        client.settimeout(10)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            received += client.recv(4096)
        assert received.startswith(b"HTTP/1.1 101")
        client.settimeout(5 * connections.HEADER_TIMEOUT_S)  # the header timer would have fired by then
        with pytest.raises(TimeoutError):
            assert client.recv(4096) != b"", "closed by the server"


def test_the_app_is_served_with_a_concurrency_limit_and_keep_alive():
    options = connections.server_options()
    assert options["limit_concurrency"] == connections.LIMIT_CONCURRENCY > 0
    assert options["timeout_keep_alive"] == connections.KEEP_ALIVE_S
    assert options["http"] is connections.ReadTimeouts
