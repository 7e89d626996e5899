"""The HTTP API in-process (FastAPI TestClient) over the real index."""

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings


@pytest.fixture(scope="module")
def client(index_current):  # type: ignore[no-untyped-def]
    from app import create_app

    with TestClient(create_app(Settings(index_dir=index_current))) as c:
        yield c


def test_ask_returns_answer_and_citations(client):
    body = client.post("/api/ask", json={"question": "Hvilke mødetyper arbejder netværket for OS2's produktforvaltere med?"}).json()
    assert body["answered"] and body["citations"][0]["url"].startswith("https://chatbotberg.github.io/OS2produktmodning/")
    assert {"n", "title", "breadcrumb", "heading", "url", "source", "path", "snippet", "score"} <= set(body["citations"][0])


def test_too_long_or_empty_question_is_422(client):
    assert client.post("/api/ask", json={"question": ""}).status_code == 422
    assert client.post("/api/ask", json={"question": "x" * 2001}).status_code == 422


def test_search_filters_by_path_prefix(client):
    body = client.post("/api/search", json={"query": "roadmap", "k": 5,
                                            "filters": {"path_prefix": "docs/Produktspecifikke-anvisninger/OS2forms"}}).json()
    assert body["results"] and all("OS2forms" in r["path"] for r in body["results"])


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] and ready["chunks"] > 400 and ready["pages"] > 60
