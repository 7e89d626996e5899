"""Acceptance: a fresh checkout with nothing beside it, started with the README's command, answers a
question about the OS2 governance pages with a citation on the published site — without internet
(git's https goes to a closed port, so the live repository falls back to the shipped snapshot).

The checkout is the working tree's files as git sees them (tracked and new, not ignored) copied into
an empty folder; `ASSISTANT_VENV` lends it this checkout's .venv, so nothing is installed.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx

from tests.conftest import REPO

QUESTION = "Hvilken leverandør står for vedligehold af OS2forms, og hvem sørger for kvalitetssikringen?"


def fresh_checkout(target: Path) -> Path:
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = REPO / rel
        if source.is_file():  # (a tracked file deleted in the working tree is not there)
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes(source.read_bytes())
            (target / rel).chmod(source.stat().st_mode & 0o777)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + 900  # a guard against a hang: a first start embeds the two sites (~2 min)
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"bin/start exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise AssertionError(f"not ready:\n{log.read_text()[-4000:]}")


def test_a_fresh_checkout_answers_about_the_os2_governance_pages_out_of_the_box(tmp_path: Path):
    checkout = fresh_checkout(tmp_path / "checkout")
    assert not (checkout.parent / "shared").exists() and not (checkout / "data").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}  # the README's defaults
    env["ASSISTANT_VENV"] = str(REPO / ".venv")
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        env[name] = "http://127.0.0.1:9"  # no internet, and no waiting for it
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "start.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(checkout / "bin" / "start"), "--port", str(port)], cwd=checkout, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(base, process, log)
        answer = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=120).json()
        assert answer["answered"], answer
        assert "Belcom" in answer["answer"]
        assert answer["citations"][0]["url"].startswith("https://chatbotberg.github.io/OS2produktmodning/docs/")
        guide = httpx.post(f"{base}/api/ask", json={"question": "Hvordan sætter jeg widget'en ind på mit site?"},
                           timeout=120).json()
        guide_url = guide["citations"][0]["url"]
        assert guide_url.startswith(f"{base}/guide/"), guide
        assert httpx.get(guide_url, timeout=30).status_code == 200  # the guide's citations open on the app
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    started = log.read_text()
    assert (checkout / ".venv").is_symlink() and "installing Python packages" not in started
    assert "reading the snapshot" in started and f"{checkout}/corpus/os2produktmodning" in started
    assert "FAILED" not in started and "Traceback" not in started
