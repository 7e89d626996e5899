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

from assistant.settings import Settings
from ingest.pipeline import ingest
from ingest.sources import SourceSpec
from tests.ingest.test_pipeline import make_site


def test_too_many_requests_get_429_with_retry_after(index_current, tmp_path):
    from app import create_app

    app = create_app(Settings(index_dir=index_current, rate_limit_per_minute=3, admin_token="t"),
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
            assert down.status_code == 503 and "Chroma server" in down.json()["detail"]
            assert client.get("/readyz").status_code == 503
            server = start_chroma(tmp_path / "db", port)
            assert client.get("/readyz").status_code == 200
            back = client.post("/api/ask", json={"question": "Hvornår åbner borgerservice?"})
            assert back.status_code == 200 and back.json()["answered"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
