"""Fuzz every /api/ operation from the app's own OpenAPI schema: no 5xx, and every error a JSON body
whose `detail` is a message a person can read.

Schemathesis turns the schema into Hypothesis strategies of valid and invalid requests. Every operation
is fuzzed without credentials; the admin routes and the webhook once more with the admin token and a
valid signature, so both the refusals and the authorised paths run. Deterministic (derandomized, no
example database) and bounded in examples. It checks that nothing breaks, not what is answered
(test_api.py and test_admin.py do that).

Not `schemathesis.pytest.from_fixture`: it sets `Function._nodeid`, which pytest 9.2 no longer has, and
its ASGI transport ends the app's lifespan after every test; requests go through a TestClient instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode

from assistant.settings import Settings
from tests.conftest import PRODUKTMODNING

TOKEN = "fuzz-admin-token-5d1e-77aa-30bf"
SECRET = "fuzz-webhook-secret-9c3a-12ef"
WEBHOOK = "/api/webhooks/github"
SIGNATURE = "X-Hub-Signature-256"

PUBLIC = [("POST", "/api/ask"), ("POST", "/api/ask/stream"), ("POST", "/api/search"), ("POST", "/api/feedback"),
          ("GET", "/api/widget/access")]
GUARDED = [("POST", "/api/admin/reingest"), ("GET", "/api/admin/ingest/{job_id}"), ("GET", "/api/admin/gaps.csv"),
           ("POST", WEBHOOK)]
EXAMPLES = 75  # per operation and credentials: 12 × 75 requests take ~20 s on 2 cores

# What FastAPI cannot describe because the routes read it from the raw request: the webhook's body
# (the signature covers its exact bytes) and headers, and the admin routes' `?token=`.
PUSH_EVENT = {"content": {"application/json": {"schema": {
    "type": "object",
    "properties": {"ref": {"type": "string"},
                   "repository": {"type": "object", "properties": {"clone_url": {"type": "string"},
                                                                   "default_branch": {"type": "string"}}}},
}}}}
WEBHOOK_HEADERS = [{"name": SIGNATURE, "in": "header", "schema": {"type": "string", "pattern": "^sha256="}},
                   {"name": "X-GitHub-Event", "in": "header", "schema": {"type": "string"}}]
TOKEN_QUERY = {"name": "token", "in": "query", "schema": {"type": "string"}}


@pytest.fixture(scope="module", autouse=True)
def _hypothesis_files_in_tmp(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Hypothesis keeps caches in ./.hypothesis, which would be the checkout."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="module")
def client(index_current, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The app over a copy of the shared index (the fuzzer starts re-ingests) and a local-only source."""
    from app import create_app

    work = tmp_path_factory.mktemp("fuzz")
    index = work / "index"
    shutil.copytree(index_current, index)
    sources = work / "sources.toml"
    sources.write_text(f'[[source]]\nname = "os2produktmodning"\npath = "{PRODUKTMODNING}"\n')
    settings = Settings(index_dir=index, cache_dir=work / "cache", sources_file=sources, admin_token=TOKEN,
                        webhook_secret=SECRET, rate_limit_per_minute=1_000_000)
    with TestClient(create_app(settings, feedback_db=work / "feedback.sqlite")) as client:
        yield client
        wait_for_jobs(client.app.state.jobs)


@pytest.fixture(scope="module")
def api_schema(client):  # type: ignore[no-untyped-def]
    raw = client.get("/openapi.json").json()
    webhook = raw["paths"][WEBHOOK]["post"]
    webhook["requestBody"] = PUSH_EVENT
    webhook["parameters"] = WEBHOOK_HEADERS
    for path, item in raw["paths"].items():
        if path.startswith("/api/admin/"):
            for operation in item.values():
                operation.setdefault("parameters", []).append(TOKEN_QUERY)
    return schemathesis.openapi.from_dict(raw)


def wait_for_jobs(jobs, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    """Let a re-ingest the fuzzer started finish before the app goes away."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        latest = jobs.latest()
        if latest is None or latest.state in ("done", "failed"):
            return
        time.sleep(0.2)


def send(client: TestClient, case, credentials: bool):  # type: ignore[no-untyped-def]
    """The generated request; with `credentials`, the admin token and a signature over the exact body."""
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    body = json.dumps(request["json"]).encode() if "json" in request else request.get("data")
    headers = dict(request["headers"])
    if credentials:
        signed = body.encode() if isinstance(body, str) else body or b""
        headers["Authorization"] = f"Bearer {TOKEN}"
        headers[SIGNATURE] = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    # Header values travel as latin-1 (the fuzzer uses all of it); httpx would only take ASCII strings.
    raw_headers = {name: value.encode("latin-1") for name, value in headers.items()}
    return client.request(request["method"], request["url"], params=request["params"], headers=raw_headers,
                          content=body)


def assert_no_server_error_and_errors_explained(case, response) -> None:  # type: ignore[no-untyped-def]
    shown = f"{case.method} {case.formatted_path} → {response.status_code} {response.text[:300]!r}"
    assert response.status_code < 500, shown
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), shown
        detail = response.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), shown


def test_every_api_operation_is_fuzzed(api_schema):  # type: ignore[no-untyped-def]
    operations = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert {op for op in operations if op[1].startswith("/api/")} == set(PUBLIC + GUARDED)


@pytest.mark.parametrize(("method", "path", "credentials"),
                         [pytest.param(*op, False, id=" ".join(op)) for op in PUBLIC + GUARDED]
                         + [pytest.param(*op, True, id=" ".join(op) + " authorised") for op in GUARDED])
def test_fuzzed_requests_get_no_server_error_and_explained_errors(client, api_schema, method, path, credentials):  # type: ignore[no-untyped-def]
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                         suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def fuzz(case) -> None:  # type: ignore[no-untyped-def]
        hypothesis.note(case.as_curl_command())  # shown with a failure, also one the app raises
        assert_no_server_error_and_errors_explained(case, send(client, case, credentials))

    fuzz()
