"""Admin and webhook routes: credentials, background re-ingest, question log, docs-gap report."""

import hashlib
import hmac
import itertools
import json
import logging
import shutil
import subprocess
import time

import pytest
from fastapi.testclient import TestClient

from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.settings import Settings
from assistant.sites.sources import load_sources
from tests.conftest import PRODUKTMODNING

TOKEN = "admin-token-7c1e-4f0a-9b2d-e81c"
SECRET = "webhook-secret-93ab-51d7-c0fe"


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
    # The index is built from this sources file (so its re-ingests read it); the git site is new in it.
    SqliteCatalog(index).record_sources([spec.to_record() for spec in load_sources(sources)])
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


_PUSHES = itertools.count()


def push(ref: str, url: str) -> bytes:
    """A push event; each has its own `after` commit, as GitHub's do (identical bodies are one push)."""
    after = f"{next(_PUSHES):040x}"
    return json.dumps({"ref": ref, "after": after, "repository": {"clone_url": url, "default_branch": "main"}}).encode()


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
    # The served index has the new page (whether an answer quotes it is the answerer's business).
    found = client.post("/api/search", json={"query": "Git-side: tekst fra git", "k": 5}).json()
    assert any(p["source"] == "gitdocs" for p in found["results"]), found


def test_the_admin_page_shows_the_last_ingest_as_a_table_with_local_times(setup):
    from assistant.web.ingest_report import local_time

    client, _ = setup
    state = wait_done(client, client.post("/api/admin/reingest", headers=auth()).json()["job"]["id"])
    page = client.get("/admin", headers=auth()).text
    assert "<th scope='col'>Nye sider</th>" in page and "<td>os2produktmodning</td>" in page
    assert local_time(state["finished"]) in page and str(int(state["finished"])) not in page
    assert '"finished"' not in page and "<pre" not in page


def test_the_admin_page_counts_questions_per_channel(setup):
    client, _ = setup
    feedback = client.app.state.feedback
    feedback.log_question("Hvad koster et Micro Hackaton?", True, [], channel="mcp")
    feedback.log_question("Hvad koster en kop kaffe?", False, [], channel="mcp")
    page = client.get("/admin", headers=auth()).text
    mcp = next(c for c in feedback.by_channel() if c["channel"] == "mcp")
    assert mcp["questions"] >= 2 and mcp["answered"] >= 1
    assert f"<tr><td>MCP (AI-agenter)</td><td>{mcp['questions']}</td><td>{mcp['answered']}</td></tr>" in page


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
    page = client.get("/admin", headers=auth())
    assert page.status_code == 200 and "<svg" in page.text and "os2produktmodning" in page.text
    assert "Huller i dokumentationen" in page.text


def login(client, token: str = TOKEN):  # type: ignore[no-untyped-def]
    return client.post("/admin/login", data={"token": token}, follow_redirects=False)


@pytest.fixture
def browser(setup):  # type: ignore[no-untyped-def]
    """A client like a browser on https (the session cookie is Secure) with no cookies yet."""
    client, _ = setup
    return TestClient(client.app, base_url="https://testserver")  # not entered: the app's lifespan is setup's


def test_the_admin_page_asks_for_the_token_in_a_form_never_in_the_url(browser):
    form = browser.get("/admin")
    assert form.status_code == 401 and 'action="/admin/login"' in form.text and 'type="password"' in form.text
    with_query = browser.get(f"/admin?token={TOKEN}")
    assert with_query.status_code == 401 and "Indeksversion" not in with_query.text
    assert browser.get(f"/api/admin/gaps.csv?token={TOKEN}").status_code == 401


def test_login_sets_a_strict_httponly_secure_session_cookie_and_opens_the_page(browser):
    assert login(browser, "forkert-" + TOKEN).status_code == 401
    reply = login(browser)
    assert reply.status_code == 303 and reply.headers["location"] == "/admin"
    cookie = reply.headers["set-cookie"].lower()
    assert all(flag in cookie for flag in ("httponly", "secure", "samesite=strict", "max-age=")) and TOKEN.lower() not in cookie
    page = browser.get("/admin")
    assert page.status_code == 200 and "Indeksversion" in page.text and TOKEN not in page.text
    assert "Vektorer kontrolleret ved start" in page.text
    assert 'href="/api/admin/gaps.csv"' in page.text
    assert browser.get("/api/admin/gaps.csv").status_code == 200
    browser.post("/admin/logout")
    assert browser.get("/admin").status_code == 401


def test_a_forged_or_expired_session_cookie_is_refused(browser):
    login(browser)
    value = browser.cookies["admin_session"]
    expires, nonce, signature = value.split(".")
    browser.cookies.clear()
    browser.cookies.set("admin_session", f"{int(expires) + 10**6}.{nonce}.{signature}", domain="testserver")
    assert browser.get("/admin").status_code == 401
    browser.cookies.clear()
    browser.cookies.set("admin_session", f"{int(time.time()) - 5}.{nonce}.{signature}", domain="testserver")
    assert browser.get("/admin").status_code == 401


def test_reingest_from_the_page_needs_its_csrf_token(browser):
    import re

    login(browser)
    page = browser.get("/admin").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert browser.post("/api/admin/reingest").status_code == 403  # the cookie alone is not enough
    assert browser.post("/api/admin/reingest", headers={"X-CSRF-Token": "x" + csrf}).status_code == 403
    reply = browser.post("/api/admin/reingest", headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 202
    assert wait_done(browser, reply.json()["job"]["id"])["state"] in ("done", "failed")


def test_admin_replies_are_not_cached_framed_or_referred(browser):
    for reply in (browser.get("/admin"), browser.get("/api/admin/gaps.csv", headers=auth()), login(browser)):
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["referrer-policy"] == "no-referrer" and reply.headers["x-frame-options"] == "DENY"


def test_a_bad_feedback_citation_is_refused_and_a_damaged_row_does_not_break_the_report(setup):
    client, _ = setup
    bad = client.post("/api/feedback", json={"question": "Hvad?", "answer": "a", "rating": "down",
                                             "citations": [{"title": {"x": 1}, "url": 5}]})
    assert bad.status_code == 422
    store = client.app.state.feedback
    with store._lock, store._db:  # a row as an older version (or a hand edit) may have left it
        store._db.execute("INSERT INTO feedback (created, channel, rating, question, answer, citations) "
                          "VALUES (?, 'api', 'down', 'Beskadiget række', 'a', ?)",
                          (time.time(), json.dumps([{"title": {"x": 1}, "url": 5}, "x", 7])))
        store._db.execute("INSERT INTO feedback (created, channel, rating, question, answer, citations) "
                          "VALUES (?, 'api', 'down', 'Ikke JSON', 'a', '{[')", (time.time(),))
    assert client.get("/admin", headers=auth()).status_code == 200
    report = client.get("/api/admin/gaps.csv", headers=auth())
    assert report.status_code == 200 and "Beskadiget række" in report.text and "Ikke JSON" in report.text


def test_a_question_row_whose_created_is_not_a_number_does_not_break_the_admin_page(setup):
    client, _ = setup
    store = client.app.state.feedback
    with store._lock, store._db:  # a hand edit (or another program) may leave such a row
        store._db.execute("INSERT INTO questions (created, channel, question, answered, pages) "
                          "VALUES ('i går', 'api', 'Dato som tekst', 1, '[]')")
    page = client.get("/admin", headers=auth())
    assert page.status_code == 200 and ("<svg" in page.text or "Ingen spørgsmål endnu" in page.text)


def test_questions_that_look_like_formulas_reach_the_csv_as_text(setup):
    import csv
    import io

    client, _ = setup
    for question in ["=HYPERLINK(\"http://evil\",\"klik\") pizza på månen", "+1+cmd|' /C calc'!A0 julemandens slæde",
                     "@SUM(1) zebraens striber", "-2+3 kamelens pukler"]:
        client.post("/api/ask", json={"question": question})
    rows = list(csv.reader(io.StringIO(client.get("/api/admin/gaps.csv", headers=auth()).text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for cell in cells)


def test_a_signed_body_replayed_under_a_new_delivery_id_starts_no_second_job(setup):
    client, url = setup
    body = push("refs/heads/main", url)
    first = client.post("/api/webhooks/github", content=body, headers={**signed(body), "X-GitHub-Delivery": "r-1"})
    assert first.status_code == 202
    wait_done(client, first.json()["job"]["id"])
    again = client.post("/api/webhooks/github", content=body, headers={**signed(body), "X-GitHub-Delivery": "r-2"})
    assert again.status_code == 200 and again.json()["ignored"]


def test_a_replayed_delivery_starts_no_second_job(setup):
    client, url = setup
    body = push("refs/heads/main", url)
    headers = {**signed(body), "X-GitHub-Delivery": "d1b2c3-replay"}
    first = client.post("/api/webhooks/github", content=body, headers=headers)
    assert first.status_code == 202
    wait_done(client, first.json()["job"]["id"])
    latest = client.app.state.jobs.latest()
    again = client.post("/api/webhooks/github", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["ignored"] and client.app.state.jobs.latest() is latest


def test_a_large_signed_push_is_accepted_and_a_deeply_nested_one_is_ignored(setup):
    client, url = setup
    commits = [{"id": f"{i:040x}", "message": "Opdatering " * 30, "modified": ["docs/a.md"] * 5} for i in range(300)]
    body = json.dumps({"ref": "refs/heads/feature", "repository": {"clone_url": url}, "commits": commits}).encode()
    assert len(body) > 100_000
    reply = client.post("/api/webhooks/github", content=body, headers=signed(body))
    assert reply.status_code == 202 and reply.json()["ignored"]  # read and checked, not refused by size
    nested = b'{"ref": "refs/heads/main", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert client.post("/api/webhooks/github", content=nested, headers=signed(nested)).status_code == 202
    no_repository = json.dumps({"ref": "refs/heads/main"}).encode()
    reply = client.post("/api/webhooks/github", content=no_repository, headers=signed(no_repository))
    assert reply.json().get("ignored")


def test_the_server_log_never_shows_the_token(index_current, tmp_path):
    import os
    import socket
    import sys
    import urllib.error
    import urllib.request

    from tests.conftest import REPO

    index = tmp_path / "index"
    shutil.copytree(index_current, index)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ASSISTANT_ADMIN_TOKEN": TOKEN, "ASSISTANT_CACHE_DIR": str(tmp_path / "cache")}
    log_file = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port", str(port)], cwd=REPO,
                              env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirects)

    def call(path: str, data: bytes | None = None, headers: dict | None = None) -> int:
        request = urllib.request.Request(base + path, data=data, headers=headers or {})
        try:
            with opener.open(request, timeout=30) as reply:
                return reply.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        for _ in range(300):
            try:
                if call("/healthz") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert call(f"/admin?token={TOKEN}") == 401
        assert call(f"/api/admin/reingest?token={TOKEN}", data=b"") == 401
        assert call("/admin", headers=auth()) == 200
        assert call("/admin/login", data=f"token={TOKEN}".encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"}) == 303
    finally:
        server.terminate()
        server.wait(30)
        log_file.close()
    log = (tmp_path / "server.log").read_text()
    assert "GET /admin?token=" in log  # the requests were logged ...
    assert TOKEN not in log  # ... without the token
