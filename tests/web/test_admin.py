"""Admin and webhook routes: credentials, background re-ingest, question log, docs-gap report."""

import hashlib
import hmac
import json
import logging
import shutil
import subprocess
import time

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings
from tests.conftest import PRODUKTMODNING

TOKEN = "admin-token-7c1e"
SECRET = "webhook-secret-93ab"


def git(*args: str, cwd) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def setup(index_current, tmp_path_factory):  # type: ignore[no-untyped-def]
    from app import create_app

    work = tmp_path_factory.mktemp("admin")
    index = work / "index"
    shutil.copytree(index_current, index)
    repo = work / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "_config.yml").write_text("url: https://git.example.dk\n")
    (repo / "docs" / "a.md").write_text("---\ntitle: Git-side\n---\n# Git-side\nTekst fra git.\n")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    sources = work / "sources.toml"
    sources.write_text(f'[[source]]\nname = "os2produktmodning"\npath = "{PRODUKTMODNING}"\n'
                       f'[[source]]\nname = "gitdocs"\ngit = "file://{repo}"\nbranch = "main"\n')
    settings = Settings(index_dir=index, cache_dir=work / "cache", sources_file=sources,
                        embedding_cache_dir=index_current, admin_token=TOKEN, webhook_secret=SECRET)
    with TestClient(create_app(settings, feedback_db=work / "feedback.sqlite")) as client:
        yield client, f"file://{repo}"


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def wait_done(client, job_id: str) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(600):
        state = client.get(f"/api/admin/ingest/{job_id}", headers=auth()).json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def push(ref: str, url: str) -> bytes:
    return json.dumps({"ref": ref, "repository": {"clone_url": url, "default_branch": "main"}}).encode()


def signed(body: bytes, secret: str = SECRET) -> dict:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "X-GitHub-Event": "push", "Content-Type": "application/json"}


@pytest.mark.parametrize("headers", [{}, auth("wrong")])
def test_admin_routes_refuse_missing_or_wrong_tokens(setup, headers):
    client, _ = setup
    assert client.post("/api/admin/reingest", headers=headers).status_code == 401
    assert client.get("/admin", headers=headers).status_code == 401
    assert client.get("/api/admin/gaps.csv", headers=headers).status_code == 401


def test_reingest_runs_in_the_background_and_reports(setup):
    client, _ = setup
    reply = client.post("/api/admin/reingest", headers=auth())
    assert reply.status_code == 202 and {"job", "running", "queued_new"} <= set(reply.json())
    state = wait_done(client, reply.json()["job"]["id"])
    assert state["state"] == "done", state
    sources = {s["name"]: s for s in state["report"]["sources"]}
    assert sources["gitdocs"]["added"] == ["docs/a.md"] and not sources["os2produktmodning"]["error"]
    answer = client.post("/api/ask", json={"question": "Hvad står der på Git-siden?"}).json()
    assert any(c["source"] == "gitdocs" for c in answer["citations"])


def test_webhook_with_wrong_or_missing_signature_runs_nothing(setup, caplog):
    client, url = setup
    body = push("refs/heads/main", url)
    before = client.app.state.jobs.latest()
    with caplog.at_level(logging.DEBUG):
        assert client.post("/api/webhooks/github", content=body, headers={"Content-Type": "application/json"}).status_code == 401
        reply = client.post("/api/webhooks/github", content=body, headers=signed(body, "not-the-secret"))
    assert reply.status_code == 401 and SECRET not in reply.text
    assert client.app.state.jobs.latest() is before
    assert SECRET not in caplog.text and TOKEN not in caplog.text


def test_webhook_with_a_non_ascii_signature_is_refused(setup):
    client, url = setup
    body = push("refs/heads/main", url)
    headers = {**signed(body), "X-Hub-Signature-256": "sha256=æ".encode("latin-1")}
    assert client.post("/api/webhooks/github", content=body, headers=headers).status_code == 401


def test_webhook_push_to_the_source_branch_starts_a_job_and_other_branches_are_ignored(setup):
    client, url = setup
    other = push("refs/heads/feature", url)
    assert client.post("/api/webhooks/github", content=other, headers=signed(other)).json()["ignored"]
    body = push("refs/heads/main", url)
    reply = client.post("/api/webhooks/github", content=body, headers=signed(body))
    assert reply.status_code == 202
    assert wait_done(client, reply.json()["job"]["id"])["state"] == "done"


def test_questions_are_logged_masked_and_the_gap_report_groups_unanswered_ones(setup):
    client, _ = setup
    for question in ["Hvad er opskriften på rødgrød med fløde? Mit CPR er 010203-1234",
                     "Opskrift på rødgrød med fløde, tak", "Hvem leverer vedligeholdelsen af OS2forms?"]:
        client.post("/api/ask", json={"question": question})
    csv_text = client.get("/api/admin/gaps.csv", headers=auth()).text
    assert "rødgrød" in csv_text and "010203-1234" not in csv_text and "[cpr]" in csv_text
    rows = [line for line in csv_text.splitlines()[1:] if "rødgrød" in line]
    assert len(rows) == 1 and rows[0].startswith("2,2,0")
    page = client.get(f"/admin?token={TOKEN}")
    assert page.status_code == 200 and "<svg" in page.text and "os2produktmodning" in page.text
    assert "Huller i dokumentationen" in page.text
