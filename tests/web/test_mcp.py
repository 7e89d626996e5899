"""The MCP server: the SDK's own client against the real app under uvicorn on 127.0.0.1 (Streamable
HTTP at /mcp), and `python -m assistant.mcp` over stdio, over an index of two small sites."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import REPO
from tests.two_sites import build_two_sites

TOKEN = "mcp-test-token-4b1f0c2e9a7d3b5f8e6a"
LOGIN_QUESTION = "Hvordan logger jeg ind på skoleintra?"
OFF_TOPIC = "Hvad koster en pizza i Rom?"
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


class AppServer:
    """The real app under uvicorn in a thread, on a socket bound before it starts (no port race)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> AppServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()

    @property
    def mcp(self) -> str:
        return f"{self.origin}/mcp"


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory, embedding_cache: Path):  # type: ignore[no-untyped-def]
    return build_two_sites(tmp_path_factory.mktemp("mcp-sites"), embedding_cache)


def serve(settings, folder: Path, **updates: Any) -> AppServer:  # type: ignore[no-untyped-def]
    from app import create_app

    return AppServer(create_app(settings.model_copy(update=updates), feedback_db=folder / "feedback.sqlite"))


@pytest.fixture(scope="module")
def app_server(two_sites, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:  # type: ignore[no-untyped-def]
    settings, _ = two_sites
    folder = tmp_path_factory.mktemp("mcp-app")
    with serve(settings, folder, allowed_origins="https://docs.example.dk") as server:
        server.feedback_db = folder / "feedback.sqlite"  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="module")
def token_server(two_sites, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:  # type: ignore[no-untyped-def]
    settings, _ = two_sites
    with serve(settings, tmp_path_factory.mktemp("mcp-token"), mcp_token=TOKEN) as server:
        yield server


def with_client(url: str, use: Callable[[Client], Awaitable[Any]], headers: dict[str, str] | None = None,
                mode: str = "auto") -> Any:
    """Run `use(client)` with the SDK's Streamable HTTP client connected to `url`."""

    async def run() -> Any:
        async with httpx2.AsyncClient(headers=headers or {}, timeout=120) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:  # type: ignore[arg-type]
                return await use(client)

    return anyio.run(run)


def call_tool(url: str, name: str, arguments: dict[str, Any]) -> Any:
    async def use(client: Client) -> Any:
        return await client.call_tool(name, arguments)

    return with_client(url, use)


# --- the protocol and the tools ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "legacy"])  # the 2026 protocol, and the initialize handshake of 2025 clients
def test_initialize_and_list_the_read_only_tools(app_server, mode):
    async def use(client: Client) -> Any:
        return client.server_info, await client.list_tools()

    info, listed = with_client(app_server.mcp, use, mode=mode)
    assert info is not None and info.name == "dokumentationsassistenten"
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"search_docs", "ask", "get_page", "list_sources"}
    for tool in tools.values():
        assert tool.annotations.read_only_hint and not tool.annotations.destructive_hint
        assert tool.output_schema and tool.output_schema["type"] == "object"
        # descriptions are Danish, then English
        assert any(w in tool.description for w in ("Søg", "Besvar", "Hent", "indlæste"))
        assert any(w in tool.description for w in ("Search", "Answer", "Get", "ingested"))
    assert tools["search_docs"].input_schema["properties"]["k"]["maximum"] == 50


def test_search_docs_gives_passages_with_section_urls(app_server):
    result = call_tool(app_server.mcp, "search_docs", {"query": "storskrald afhentning", "k": 3})
    assert not result.is_error
    passages = result.structured_content["results"]
    assert 1 <= len(passages) <= 3
    best = passages[0]
    assert best["url"] == "https://kommune.example.dk/docs/affald.html#storskrald"
    assert best["title"] == "Affald" and best["heading"] == "Storskrald" and "tirsdag" in best["text"]
    assert set(best) >= {"title", "breadcrumb", "heading", "url", "text", "source", "path", "score"}


def test_search_docs_keeps_to_the_source_asked_for(app_server):
    result = call_tool(app_server.mcp, "search_docs", {"query": "bestil afhentning", "k": 8, "source": "skole"})
    assert not result.is_error
    assert {p["source"] for p in result.structured_content["results"]} == {"skole"}


def test_ask_cites_the_same_as_the_rest_api(app_server):
    result = call_tool(app_server.mcp, "ask", {"question": LOGIN_QUESTION})
    rest = httpx.post(f"{app_server.origin}/api/ask", json={"question": LOGIN_QUESTION}, timeout=120).json()
    assert not result.is_error
    answer = result.structured_content
    assert answer["answered"] and answer["citations"]
    assert answer["citations"] == rest["citations"]
    assert answer["answer"] == rest["answer"]


def test_ask_about_what_the_docs_lack_says_so_with_the_closest_pages(app_server):
    answer = call_tool(app_server.mcp, "ask", {"question": OFF_TOPIC}).structured_content
    assert not answer["answered"]
    assert answer["answer"].startswith("Det kan jeg ikke finde i dokumentationen")
    assert answer["citations"] and all(c["url"].startswith("https://") for c in answer["citations"])


def test_ask_follows_up_on_the_history(app_server):
    history = [{"role": "user", "content": "Hvornår hentes storskrald?"},
               {"role": "assistant", "content": "Storskrald hentes hver anden tirsdag. [1]"}]
    answer = call_tool(app_server.mcp, "ask", {"question": "Hvornår skal jeg bestille det?", "history": history})
    assert not answer.is_error
    assert answer.structured_content["citations"][0]["path"] == "docs/affald.md"


def test_questions_are_logged_masked_as_coming_from_mcp(app_server):
    call_tool(app_server.mcp, "ask", {"question": "Mit cpr er 010170-1234, hvornår hentes haveaffald?"})
    with sqlite3.connect(app_server.feedback_db) as db:
        rows = db.execute("SELECT channel, question FROM questions WHERE question LIKE '%haveaffald%'").fetchall()
    assert rows == [("mcp", "Mit cpr er [cpr], hvornår hentes haveaffald?")]


def test_get_page_gives_clean_markdown_with_sections_and_urls(app_server):
    result = call_tool(app_server.mcp, "get_page", {"url_or_path": "https://kommune.example.dk/docs/affald.html#storskrald"})
    assert not result.is_error
    page = result.structured_content
    assert page["title"] == "Affald" and page["source"] == "kommune" and page["path"] == "docs/affald.md"
    assert page["markdown"].startswith("# Affald\n\nSådan bestiller du afhentning")
    assert "\n## Storskrald\n\nStorskrald hentes hver anden tirsdag." in page["markdown"]
    assert {"heading": "Storskrald", "level": 2, "url": "https://kommune.example.dk/docs/affald.html#storskrald"} in page["sections"]
    assert page["uri"] == "docs://kommune/docs/affald.md"


@pytest.mark.parametrize("reference", ["docs/affald/haveaffald.md", "kommune:docs/affald/haveaffald.md",
                                       "/docs/affald/haveaffald.html", "https://kommune.example.dk/docs/affald/haveaffald",
                                       "docs://kommune/docs/affald/haveaffald.md"])
def test_get_page_takes_a_url_a_path_or_a_resource_uri(app_server, reference):
    result = call_tool(app_server.mcp, "get_page", {"url_or_path": reference})
    assert not result.is_error and result.structured_content["title"] == "Haveaffald"


def test_list_sources_gives_the_sites_with_page_counts(app_server):
    result = call_tool(app_server.mcp, "list_sources", {})
    listed = {s["name"]: s for s in result.structured_content["sources"]}
    assert set(listed) == {"skole", "kommune"}
    assert listed["kommune"]["pages"] == 3 and listed["kommune"]["title"] == "Kommunens selvbetjening"
    assert listed["kommune"]["url"] == "https://kommune.example.dk/"
    assert listed["skole"]["pages"] == 3 and listed["skole"]["chunks"] == 4
    assert listed["skole"]["description"] == "Hjælp til forældre og elever om skolens intranet."
    assert result.structured_content["last_ingest"].endswith("+00:00")


def test_every_page_is_a_resource(app_server):
    async def use(client: Client) -> Any:
        listed = await client.list_resources()
        return listed, await client.read_resource("docs://kommune/docs/affald/haveaffald.md")

    listed, read = with_client(app_server.mcp, use)
    uris = {resource.uri for resource in listed.resources}
    assert len(uris) == 6 and "docs://skole/docs/login.md" in uris
    assert read.contents[0].text.startswith("# Haveaffald\n\nHaveaffald afhentes fra april til november.")



def test_the_resource_list_comes_in_pages_with_the_protocols_cursor(app_server, monkeypatch):
    from mcp.shared.exceptions import MCPError

    from assistant.mcp import server

    monkeypatch.setattr(server, "RESOURCES_PER_PAGE", 4)  # the server runs in this process

    async def use(client: Client) -> Any:
        first = await client.list_resources()
        second = await client.list_resources(cursor=first.next_cursor)
        with pytest.raises(MCPError) as bad:
            await client.list_resources(cursor="not-a-cursor")
        return first, second, bad.value

    first, second, bad = with_client(app_server.mcp, use)
    assert len(first.resources) == 4 and first.next_cursor
    assert len(second.resources) == 2 and second.next_cursor is None
    uris = [r.uri for r in first.resources + second.resources]
    assert len(set(uris)) == 6 and "docs://skole/docs/login.md" in uris
    assert bad.error.code == -32602 and "cursor" in bad.error.message

# --- bad arguments: a tool error, never a 500 -------------------------------------------------------

@pytest.mark.parametrize(("tool", "arguments", "says"), [
    ("search_docs", {"query": ""}, "query"),
    ("search_docs", {"query": "   "}, "tom"),
    ("search_docs", {"query": "affald", "k": 10**6}, "less than or equal to 50"),
    ("search_docs", {"query": "affald", "k": 0}, "greater than or equal to 1"),
    ("search_docs", {"query": "affald", "source": "findes-ikke"}, "findes ikke"),
    ("search_docs", {}, "query"),
    ("ask", {"question": "x" * 2001}, "question"),
    ("ask", {"question": "Hvad?", "history": [{"role": "system", "content": "x"}]}, "role"),
    ("get_page", {"url_or_path": "../../etc/passwd"}, "findes ikke i indekset"),
    ("get_page", {"url_or_path": "/etc/passwd"}, "findes ikke i indekset"),
    ("get_page", {"url_or_path": "file:///etc/passwd"}, "findes ikke i indekset"),
    ("get_page", {"url_or_path": "https://evil.example/docs/affald.html"}, "findes ikke i indekset"),
    ("get_page", {"url_or_path": 42}, "url_or_path"),
])
def test_bad_arguments_are_tool_errors(app_server, tool, arguments, says):
    result = call_tool(app_server.mcp, tool, arguments)
    assert result.is_error
    assert says in result.content[0].text


def test_an_unknown_resource_is_a_protocol_error_not_a_crash(app_server):
    from mcp.shared.exceptions import MCPError

    async def use(client: Client) -> Any:
        with pytest.raises(MCPError) as raised:
            await client.read_resource("docs://kommune/../../etc/passwd")
        return raised.value

    assert "Unknown resource" in str(with_client(app_server.mcp, use))


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": 5}'])
def test_malformed_messages_get_a_json_rpc_error_not_a_500(app_server, body):
    reply = httpx.post(app_server.mcp, content=body, headers=MCP_HEADERS, timeout=30)
    assert reply.status_code == 400 and reply.json()["error"]["code"] in (-32700, -32602)


def test_an_unknown_tool_is_a_tool_error(app_server):
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "rm_rf", "arguments": {}}}
    reply = httpx.post(app_server.mcp, json=call, headers=MCP_HEADERS, timeout=30)
    assert reply.status_code == 200 and reply.json()["result"]["isError"]


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_stateless_mcp_takes_only_post(app_server, method):
    reply = httpx.request(method, app_server.mcp, headers=MCP_HEADERS, timeout=30)
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"


# --- the door: token, origin, limits ----------------------------------------------------------------

def test_with_a_token_set_the_tools_need_it(token_server):
    result = with_client(token_server.mcp, lambda client: client.call_tool("list_sources", {}),
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert not result.is_error


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-of-enough-length-xxxxx", f"Basic {TOKEN}",
                                           f"Bearer {TOKEN}x", "Bearer"])
def test_a_missing_or_wrong_token_is_refused(token_server, authorization):
    headers = {**MCP_HEADERS, **({"Authorization": authorization} if authorization else {})}
    reply = httpx.post(token_server.mcp, json=TOOLS_LIST, headers=headers, timeout=30)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert "ASSISTANT_MCP_TOKEN" in reply.json()["detail"]


def test_the_sdk_client_without_the_token_gets_no_session(token_server):
    from mcp.shared.exceptions import MCPError

    with pytest.raises(ExceptionGroup) as raised:  # the transport's task group carries the refusal out
        with_client(token_server.mcp, lambda client: client.list_tools())
    assert raised.group_contains(MCPError, match="error response")


def test_a_web_page_of_another_site_may_not_call_it(app_server):
    reply = httpx.post(app_server.mcp, json=TOOLS_LIST, headers={**MCP_HEADERS, "Origin": "http://evil.example"}, timeout=30)
    assert reply.status_code == 403
    allowed = httpx.post(app_server.mcp, json=TOOLS_LIST, headers={**MCP_HEADERS, "Origin": "https://docs.example.dk"},
                         timeout=30)
    assert allowed.status_code == 200 and allowed.json()["result"]["tools"]


def test_bodies_over_64_kb_are_refused(app_server):
    big = {**TOOLS_LIST, "params": {"padding": "x" * 70_000}}
    reply = httpx.post(app_server.mcp, content=json.dumps(big), headers=MCP_HEADERS, timeout=30)
    assert reply.status_code == 413


def test_mcp_requests_count_against_the_rate_limit(two_sites, tmp_path):
    settings, _ = two_sites
    with serve(settings, tmp_path, rate_limit_per_minute=3) as server:
        statuses = [httpx.post(server.mcp, json=TOOLS_LIST, headers=MCP_HEADERS, timeout=30).status_code for _ in range(3)]
        statuses.append(httpx.get(server.mcp, headers=MCP_HEADERS, timeout=30).status_code)
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429


def test_mcp_can_be_switched_off(two_sites, tmp_path):
    settings, _ = two_sites
    with serve(settings, tmp_path, mcp_enabled=False) as server:
        reply = httpx.post(server.mcp, json=TOOLS_LIST, headers=MCP_HEADERS, timeout=30)
    assert reply.status_code in (404, 405)


# --- stdio ------------------------------------------------------------------------------------------

def test_stdio_mode_answers_search_docs(two_sites, tmp_path):
    settings, _ = two_sites
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(settings.cache_dir),
           "ASSISTANT_EMBEDDING_CACHE_DIR": str(settings.embedding_cache_dir)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "assistant.mcp", "--index", str(settings.index_dir)],
                                   env=env, cwd=str(REPO))

    async def run() -> Any:
        async with Client(params) as client:
            return await client.call_tool("search_docs", {"query": "haveaffald grene", "k": 2})

    result = anyio.run(run)
    assert not result.is_error
    assert result.structured_content["results"][0]["url"] == "https://kommune.example.dk/docs/affald/haveaffald.html#haveaffald"


@pytest.mark.parametrize("token", ["short", "change-me-change-me-change-me-123"])
def test_a_weak_mcp_token_stops_the_start(token):
    from assistant.errors import ConfigError
    from assistant.settings import Settings

    with pytest.raises(ConfigError, match="ASSISTANT_MCP_TOKEN"):
        Settings.load(mcp_token=token)
