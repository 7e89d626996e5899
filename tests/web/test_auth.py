"""Admin sessions and bearer tokens (web/auth.py) on the admin routes alone: logout and a token change
end sessions on the server, and guessed tokens are limited per client and logged."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.settings import Settings
from assistant.web.admin import build_admin_router

TOKEN = "admin-token-5d2a-44c1-8e7f-a0b3"


class NoJobs:
    def get(self, job_id: str) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_app(token: str = TOKEN) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(admin_token=token)
    app.state.jobs = NoJobs()
    app.include_router(build_admin_router())
    return app


def browser(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="https://testserver")


def logged_in(client: TestClient, cookie: str | None = None) -> bool:
    """A route that needs the admin: 404 (no such job) when let in, 401 when not. `cookie`: sent as
    it was kept, as a copied cookie would be."""
    headers = {"Cookie": f"admin_session={cookie}"} if cookie else {}
    return client.get("/api/admin/ingest/none", headers=headers).status_code == 404


def login(client: TestClient, token: str = TOKEN) -> None:
    assert client.post("/admin/login", data={"token": token}, follow_redirects=False).status_code == 303


def test_a_cookie_kept_from_before_logout_no_longer_opens_the_admin(tmp_path):
    client = browser(make_app())
    login(client)
    kept = client.cookies["admin_session"]
    assert logged_in(client)
    assert logged_in(TestClient(client.app), kept)
    client.post("/admin/logout", follow_redirects=False)
    assert not logged_in(TestClient(client.app), kept)


def test_logout_ends_only_its_own_session():
    app = make_app()
    first, second = browser(app), browser(app)
    login(first)
    login(second)
    first.post("/admin/logout", follow_redirects=False)
    assert logged_in(second)


def test_a_token_change_ends_every_session_even_when_changed_back():
    app = make_app()
    client = browser(app)
    login(client)
    kept = client.cookies["admin_session"]
    app.state.settings = Settings(admin_token=TOKEN + "-ny")
    assert not logged_in(client, kept)
    app.state.settings = Settings(admin_token=TOKEN)
    assert not logged_in(client, kept)


def test_guessed_bearer_tokens_are_limited_per_client_and_logged(caplog):
    from assistant.web.auth import AdminGuesses

    app = make_app()
    clock = Clock()
    app.state.admin_guesses = AdminGuesses(per_minute=5, clock=clock)
    guesser = TestClient(app, client=("203.0.113.9", 5000))
    other = TestClient(app, client=("198.51.100.4", 5000))
    wrong = {"Authorization": "Bearer guess-0000"}
    with caplog.at_level(logging.WARNING):
        codes = [guesser.get("/api/admin/ingest/none", headers=wrong).status_code for _ in range(8)]
    assert codes == [401] * 5 + [429] * 3
    right = {"Authorization": f"Bearer {TOKEN}"}
    limited = guesser.get("/api/admin/ingest/none", headers=right)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0  # no guess checked while limited
    assert other.get("/api/admin/ingest/none", headers=right).status_code == 404  # another client is let in
    assert "203.0.113.9" in caplog.text and "guess-0000" not in caplog.text
    assert sum("203.0.113.9" in r.getMessage() for r in caplog.records) <= 6  # each refusal, then one line a minute
    clock.now += 61
    assert guesser.get("/api/admin/ingest/none", headers=right).status_code == 404


def test_login_form_guesses_count_against_the_same_limit():
    from assistant.web.auth import AdminGuesses

    app = make_app()
    app.state.admin_guesses = AdminGuesses(per_minute=3, clock=Clock())
    client = TestClient(app, base_url="https://testserver", client=("203.0.113.10", 5000))
    codes = [client.post("/admin/login", data={"token": "forkert"}, follow_redirects=False).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False).status_code == 429


@pytest.mark.parametrize("host", ["assistent.kommune.dk", "10.0.0.5"])
def test_login_on_plain_http_away_from_localhost_says_why_the_cookie_is_not_kept(host):
    app = make_app()
    client = TestClient(app, base_url=f"http://{host}")
    form = client.get("/admin")
    assert form.status_code == 401 and "https" in form.text and "Secure" in form.text
    # The cookie is set all the same (behind an https proxy the browser keeps it); on plain http the
    # browser drops it, so the form comes back: with the reason.
    back = client.post("/admin/login", data={"token": TOKEN})
    assert back.status_code == 401 and "https" in back.text and host in back.text
    assert "ASSISTANT_TRUSTED_PROXIES" in back.text


def test_login_on_plain_http_on_localhost_works_without_a_note():
    client = TestClient(make_app(), base_url="http://localhost")
    assert "Secure" not in client.get("/admin").text
    assert client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False).status_code == 303
