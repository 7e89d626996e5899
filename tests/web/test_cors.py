"""The CORS allow-list: entries read as origins, refused sites logged once per interval."""

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.settings import Settings
from assistant.web.cors import CORS, RefusedOrigins, allowed_origins, as_origin


@pytest.mark.parametrize(("entry", "origin"), [
    ("https://docs.minkommune.dk", "https://docs.minkommune.dk"),
    ("https://Docs.Minkommune.DK/", "https://docs.minkommune.dk"),
    ("https://docs.minkommune.dk:443", "https://docs.minkommune.dk"),
    ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
])
def test_an_origin_is_read_as_the_browser_sends_it(entry, origin):
    assert as_origin(entry) == (origin, "")


def test_an_entry_with_a_path_is_understood_as_its_origin_with_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger="web.cors")
    entry = "https://user.github.io/repo-path-warning/"
    settings = Settings(allowed_origins=f"{entry}, https://docs.minkommune.dk")
    assert allowed_origins(settings) == ["https://user.github.io", "https://docs.minkommune.dk"]
    assert allowed_origins(settings) == ["https://user.github.io", "https://docs.minkommune.dk"]
    warnings = [r.getMessage() for r in caplog.records if entry in r.getMessage()]
    assert len(warnings) == 1  # once, although the list is read by several parts of the app
    assert "https://user.github.io is allowed" in warnings[0]


def test_an_entry_that_is_no_site_address_is_ignored_with_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger="web.cors")
    assert allowed_origins(Settings(allowed_origins="docs.ignored-example.dk, ftp://x.dk, *")) == ["*"]
    assert any("docs.ignored-example.dk" in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_refused_origin_is_logged_once_per_interval(caplog):
    caplog.set_level(logging.WARNING, logger="web.cors")
    clock = Clock()
    refused = RefusedOrigins(interval=3600, clock=clock)
    assert refused.note("https://other.example") and not refused.note("https://other.example")
    assert refused.note("https://third.example")
    clock.now += 3599
    assert not refused.note("https://other.example")
    clock.now += 2
    assert refused.note("https://other.example")
    lines = [r.getMessage() for r in caplog.records if "refused a browser request" in r.getMessage()]
    assert len(lines) == 3 and "'https://other.example'" in lines[0] and "ASSISTANT_ALLOWED_ORIGINS" in lines[0]


def test_the_refused_origins_kept_are_bounded():
    clock = Clock()
    refused = RefusedOrigins(interval=3600, clock=clock, max_origins=10)
    for i in range(50):
        refused.note(f"https://site{i}.example")
    assert len(refused._logged) <= 10


def test_a_refused_preflight_is_noted_and_an_allowed_one_is_not():
    refused = RefusedOrigins(clock=Clock())
    app = FastAPI()

    @app.post("/api/ask")
    def ask() -> dict:
        return {}

    app.add_middleware(CORS, refused=refused, allow_origins=["https://docs.example.dk"],
                       allow_methods=["POST"], allow_headers=["content-type"])
    client = TestClient(app)

    def preflight(origin: str) -> int:
        return client.options("/api/ask", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"}).status_code

    assert preflight("https://docs.example.dk") == 200 and not refused._logged
    assert preflight("https://evil.example") == 400 and list(refused._logged) == ["https://evil.example"]
