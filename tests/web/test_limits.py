"""Per-client rate limit, and a Chroma server that stops: 503 with a message, then recovery."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.errors import QuestionError
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec
from assistant.web.texts import UNAVAILABLE
from ingest.pipeline import ingest
from tests.ingest.test_pipeline import make_site


def test_too_many_requests_get_429_with_retry_after(index_current, tmp_path):
    from app import create_app

    app = create_app(Settings(index_dir=index_current, rate_limit_per_minute=3, admin_token="limits-admin-token-0123456789"),
                     feedback_db=tmp_path / "f.sqlite")
    with TestClient(app) as client:
        codes = [client.post("/api/search", json={"query": "OS2forms"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.post("/api/ask", json={"question": "OS2forms"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert "For mange" in limited.json()["detail"]
        assert client.post("/api/admin/reingest", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/healthz").status_code == 200


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path),
                                "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("chroma run did not start")


def test_chroma_server_down_gives_503_and_both_recover(tmp_path):
    from app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_chroma(tmp_path / "db", port)
    settings = Settings(index_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=port, collection="down")
    try:
        site = make_site(tmp_path / "site", {"a.md": "Borgerservice åbner klokken ni."})
        ingest(settings, [SourceSpec(name="lille", path=site)], progress=False)
        with TestClient(create_app(settings, feedback_db=tmp_path / "f.sqlite")) as client:
            assert client.post("/api/ask", json={"question": "Hvornår åbner borgerservice?"}).status_code == 200
            server.send_signal(signal.SIGTERM)
            server.wait(10)
            down = client.post("/api/ask", json={"question": "Hvornår åbner borgerservice?"})
            assert down.status_code == 503 and down.json()["detail"] == UNAVAILABLE  # the details are logged
            assert client.get("/readyz").status_code == 503
            server = start_chroma(tmp_path / "db", port)
            assert client.get("/readyz").status_code == 200
            back = client.post("/api/ask", json={"question": "Hvornår åbner borgerservice?"})
            assert back.status_code == 200 and back.json()["answered"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)


@pytest.fixture(scope="module")
def limited(index_current, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The app with a rate limit of 3 a minute and a peer address, as behind a trusted proxy on 127.0.0.1."""
    from app import create_app

    work = tmp_path_factory.mktemp("limited")
    app = create_app(Settings(index_dir=index_current, rate_limit_per_minute=3, trusted_proxies="127.0.0.1",
                              cache_dir=work / "cache"), feedback_db=work / "f.sqlite")
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        yield client


def test_the_gradio_api_is_rate_limited_like_the_json_api(limited):
    headers = {"X-Forwarded-For": "203.0.113.7"}
    codes = [limited.post("/gradio_api/call/ask", json={"data": ["OS2forms", [], []]}, headers=headers).status_code
             for _ in range(4)]
    assert codes[:3] != [429] * 3 and codes[3] == 429


def test_clients_behind_a_trusted_proxy_are_counted_apart(limited):
    for address in ("198.51.100.1", "198.51.100.2"):
        codes = [limited.post("/api/search", json={"query": "OS2forms"}, headers={"X-Forwarded-For": address}).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 200]


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(index_current, tmp_path):
    from app import create_app

    app = create_app(Settings(index_dir=index_current, rate_limit_per_minute=2), feedback_db=tmp_path / "f.sqlite")
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        codes = [client.post("/api/search", json={"query": "OS2forms"}, headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
                 for i in range(3)]
    assert codes == [200, 200, 429]  # one local process cannot pose as many clients


def test_a_body_over_64_kb_is_refused_on_every_route(limited):
    big = b"x" * (20 * 1024 * 1024)
    for path in ("/gradio_api/call/ask", "/gradio_api/queue/join", "/admin/login"):
        reply = limited.post(path, content=big, headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.9"})
        assert reply.status_code == 413, path


def test_uploads_into_gradio_are_refused_and_nothing_is_kept(limited, tmp_path):
    import tempfile

    before = set(Path(tempfile.gettempdir()).rglob("*upload-probe*"))
    reply = limited.post("/gradio_api/upload", files={"files": ("upload-probe.txt", b"x" * 1000)},
                         headers={"X-Forwarded-For": "192.0.2.10"})
    assert reply.status_code == 403
    assert set(Path(tempfile.gettempdir()).rglob("*upload-probe*")) == before


def test_known_routes_with_another_method_are_405_and_health_answers_head(limited):
    reply = limited.get("/api/ask")
    assert reply.status_code == 405 and "POST" in reply.headers["allow"]
    assert limited.head("/healthz").status_code == 200 and limited.head("/readyz").status_code == 200
    assert limited.get("/").status_code == 200  # the chat is still there


def test_a_content_length_with_surrounding_whitespace_is_read_as_its_number():
    import asyncio

    from assistant.web.middleware import BodyLimit

    seen: list[bytes] = []

    async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict] = []

    async def run() -> None:
        body = b'{"question": "hvem?"}'
        scope = {"type": "http", "method": "POST", "path": "/api/ask",
                 "headers": [(b"content-length", f"{len(body)} ".encode())]}

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await BodyLimit(inner)(scope, receive, send)

    asyncio.run(run())
    assert sent[0]["status"] == 200 and seen == [b'{"question": "hvem?"}']


class BlockingAssistant:
    """Answers only when the test lets it: holds the answer threads like a hanging LLM would."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def ask(self, question, history=None, filters=None):  # type: ignore[no-untyped-def]
        self.entered.release()
        self.release.wait(60)
        raise QuestionError("released")

    def status(self) -> dict:
        return {"version": 1}


def test_health_answers_while_every_answer_thread_is_busy(index_current, tmp_path):
    import threading

    import anyio

    from app import create_app

    app = create_app(Settings(index_dir=index_current, rate_limit_per_minute=0), feedback_db=tmp_path / "f.sqlite")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.portal.call(lambda: setattr(anyio.to_thread.current_default_thread_limiter(), "total_tokens", 2))
        blocking = BlockingAssistant()
        client.app.state.assistant = blocking
        askers = [threading.Thread(target=client.post, args=("/api/ask",), kwargs={"json": {"question": "x"}})
                  for _ in range(2)]
        for thread in askers:
            thread.start()
        for _ in askers:
            assert blocking.entered.acquire(timeout=30)
        replies: dict[str, object] = {}
        probe = threading.Thread(target=lambda: replies.update(health=client.get("/healthz"), ready=client.get("/readyz")))
        probe.start()
        probe.join(30)
        answered_while_busy = not probe.is_alive()
        blocking.release.set()
        for thread in askers:
            thread.join(30)
        probe.join(30)
        assert answered_while_busy
        assert replies["health"].status_code == 200  # type: ignore[attr-defined]
        assert replies["ready"].json()["status"] == "degraded"  # type: ignore[attr-defined]


def test_questions_are_answered_while_the_disk_of_the_question_log_is_full(index_current, tmp_path, small_disk):
    from app import create_app

    disk = small_disk("1m")
    settings = Settings(index_dir=index_current, cache_dir=tmp_path / "cache", rate_limit_per_minute=0)
    with TestClient(create_app(settings, feedback_db=disk.path / "feedback.sqlite")) as client:
        disk.fill()
        codes = [client.post("/api/ask", json={"question": f"Hvem leverer OS2forms? {i} " + "x" * 1500}).status_code
                 for i in range(30)]
        assert codes == [200] * 30
        feedback = [client.post("/api/feedback", json={"question": "q" * 1500, "answer": "a" * 15000, "rating": "up"})
                    for _ in range(30)]
        refused = [f for f in feedback if f.status_code != 200]
        assert refused and all(f.status_code == 503 and "disken er fuld" in f.json()["detail"] for f in refused)
        assert client.get("/readyz").status_code == 200


def test_a_process_started_on_a_full_disk_serves_the_index_it_has(index_current, small_disk):
    import shutil

    from app import create_app, ensure_index

    disk = small_disk("64m")
    mount = disk.path
    shutil.copytree(index_current, mount / "index")
    disk.fill()
    settings = Settings(index_dir=mount / "index", cache_dir=mount / "cache", rate_limit_per_minute=0)
    ensure_index(settings)  # a full disk is not an empty index: nothing to ingest, no exception
    with TestClient(create_app(settings, feedback_db=mount / "feedback.sqlite")) as client:
        codes = [client.post("/api/ask", json={"question": f"Hvem leverer OS2forms? {i}"}).status_code for i in range(5)]
        assert codes == [200] * 5
        assert client.post("/api/ask", json={"question": "Hvad er OS2borgerPC?"}).json()["citations"]
        ready = client.get("/readyz").json()
        assert ready["ready"] and "fuld" in ready["read_only"]
        job, _ = client.app.state.jobs.submit("test")
        failed = client.app.state.jobs.wait(job.id, 300)
        assert failed.state == "failed" and failed.error.startswith("disken er fuld"), failed.error
