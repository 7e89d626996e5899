"""HEAD answers like GET on the app's pages, and the pages people open carry their security headers
(#22 items 11 and 14), on the whole app: the chat at /, the user guide at /guide/, the widget."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings

TOKEN = "admin-token-head-2f7c-41aa-9d0e"


@pytest.fixture(scope="module")
def client(tmp_path_factory):  # type: ignore[no-untyped-def]
    from app import create_app
    from assistant.sites.sources import load_sources
    from ingest.pipeline import ingest
    from tests.conftest import REPO

    work: Path = tmp_path_factory.mktemp("head")
    [guide] = [s for s in load_sources(REPO / "corpus" / "sources.toml") if s.name == "brugervejledning"]
    settings = Settings(index_dir=work / "index", cache_dir=work / "cache", admin_token=TOKEN,
                        rate_limit_per_minute=0)
    ingest(settings, [guide], progress=False)
    with TestClient(create_app(settings, feedback_db=work / "feedback.sqlite")) as client:
        yield client


@pytest.mark.parametrize("path", ["/llms.txt", "/llms-full.txt", "/widget.js", "/widget", "/guide/",
                                  "/guide/docs/opdatering.html", "/guide/docs/none.html", "/admin",
                                  "/api/widget/access"])
def test_head_answers_like_get_without_a_body(client, path):
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code, path
    assert head.content == b""
    assert head.headers.get("content-type") == get.headers.get("content-type")


def test_head_on_a_route_that_only_takes_post_is_still_405(client):
    reply = client.head("/api/ask")
    assert reply.status_code == 405 and "POST" in reply.headers["allow"]


@pytest.mark.parametrize("path", ["/", "/guide/", "/guide/docs/opdatering.html", "/widget"])
def test_pages_people_open_say_nosniff_and_who_may_frame_them(client, path):
    reply = client.get(path)
    assert reply.status_code == 200
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "SAMEORIGIN"
    policy = reply.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy


def test_the_guide_runs_no_script_of_its_pages(client):
    policy = client.get("/guide/").headers["content-security-policy"]
    assert "script-src 'none'" in policy


def test_the_widget_script_keeps_its_own_policy(client):
    script = client.get("/widget.js")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"  # any site may include it
    assert "x-frame-options" not in script.headers and "content-security-policy" not in script.headers
    assert script.headers["x-content-type-options"] == "nosniff"


def test_the_admin_page_keeps_deny(client):
    reply = client.get("/admin")
    assert reply.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in reply.headers["content-security-policy"]
