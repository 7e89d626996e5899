"""The widget's routes on the real app: the access check a widget makes when its site is refused,
and the allow-list read as origins (the widget in a browser: test_browser.py)."""

import json
import logging

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings


@pytest.fixture(scope="module")
def client(index_current, tmp_path_factory):  # type: ignore[no-untyped-def]
    from app import create_app

    settings = Settings(index_dir=index_current, allowed_origins="https://chatbotberg.github.io/OS2produktmodning/")
    with TestClient(create_app(settings, feedback_db=tmp_path_factory.mktemp("fb") / "feedback.sqlite")) as c:
        yield c


def test_a_site_written_with_its_path_may_use_the_assistant(client):
    reply = client.get("/api/widget/access", headers={"Origin": "https://chatbotberg.github.io"})
    assert reply.json() == {"allowed": True, "origin": "https://chatbotberg.github.io", "detail": ""}
    preflight = client.options("/api/ask/stream", headers={"Origin": "https://chatbotberg.github.io",
                                                           "Access-Control-Request-Method": "POST",
                                                           "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200


def test_a_site_not_allowed_is_told_so_in_danish_and_logged_once(client, caplog):
    caplog.set_level(logging.WARNING, logger="web.cors")
    origin = "https://unlisted-docs.example.dk"
    for _ in range(3):
        reply = client.get("/api/widget/access", headers={"Origin": origin})
        client.options("/api/ask/stream", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    body = reply.json()
    assert body["allowed"] is False and reply.headers["access-control-allow-origin"] == "*"
    assert body["detail"].startswith(f"Dette site ({origin}) har ikke tilladelse til at bruge assistenten.")
    assert len([r for r in caplog.records if origin in r.getMessage()]) == 1


def served_object(script: str) -> dict:
    """The object widget.py fills into the script: `var SERVER = {...};`."""
    start = script.index("var SERVER = ") + len("var SERVER = ")
    return json.loads(script[start:script.index(";\n", start)])


def test_the_script_gets_its_texts_and_limits_from_the_server(client):
    from assistant.models import MAX_QUESTION_CHARS
    from assistant.web.common import MAX_HISTORY_TURNS, MAX_TURN_CHARS
    from assistant.web.texts import WIDGET
    from assistant.web.widget import WIDGET_JS

    served = client.get("/widget.js").text
    assert served_object(served) == {"text": WIDGET, "maxQuestionChars": MAX_QUESTION_CHARS,
                                     "maxHistoryTurns": MAX_HISTORY_TURNS, "maxTurnChars": MAX_TURN_CHARS}
    assert "maxlength: String(MAX_QUESTION_CHARS)" in served
    assert ".slice(-MAX_HISTORY_TURNS)" in served and "slice(0, MAX_TURN_CHARS)" in served
    assert WIDGET["searching"] not in WIDGET_JS.read_text()  # the file holds no copy of its texts


def test_the_script_is_revalidated_by_its_etag(client):
    first = client.get("/widget.js")
    again = client.get("/widget.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert "max-age=3600" in again.headers["cache-control"]
