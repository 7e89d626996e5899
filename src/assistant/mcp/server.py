"""The MCP tools and resources: search_docs, ask, get_page, list_sources, and one resource per page.

Each tool parses its typed arguments, calls the same Assistant as the REST API and shapes a typed
result: the shapes of /api/search and /api/ask. Questions asked through `ask` go to the same question
log (masked) as the API's, with the channel "mcp". An argument the schema refuses (an empty query,
k=10⁶) or the Assistant refuses (an unknown source or page) is a tool error with a message, never an
HTTP error; the Assistant's errors are told in the same Danish words as on the web
(web/failures.py), their details logged. Everything is read-only. It knows nothing of HTTP or stdio
(http.py, __main__.py).
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, ListResourcesResult, PaginatedRequestParams, Resource, ToolAnnotations
from pydantic import BaseModel, Field

from assistant.errors import AssistantError
from assistant.models import MAX_QUESTION_CHARS
from assistant.retrieve.retriever import Filters
from assistant.serve.feedback import FeedbackStore
from assistant.serve.pages import DocPage
from assistant.serve.service import Assistant
from assistant.web.common import TurnModel, answer_payload, trim_history
from assistant.web.failures import failure

log = logging.getLogger("assistant.mcp")
T = TypeVar("T")

CHANNEL = "mcp"  # in the question log: the admin statistics tell MCP questions from the API's
MAX_K = 50
RESOURCES_PER_PAGE = 500  # resources/list: ~80 KB a page (100,000 pages at once were 16.6 MB and 2.2 s)
LOADING = "Assistenten indlæses — prøv igen om lidt (the assistant is still loading; try again shortly)."
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

INSTRUCTIONS = """Søg i og spørg dokumentationen; svar har nummererede kilder med URL til siden og afsnittet.
Search and ask the documentation; answers cite numbered sources with the URL of the page and section.
search_docs finds passages, ask answers a question (or says the docs do not cover it, with the closest
pages), get_page gives a whole page as markdown, list_sources lists the sites. Pages are also resources
(docs://{source}/{path})."""


class PassageOut(BaseModel):
    title: str
    breadcrumb: str = Field(description="Brødkrumme / breadcrumb: parent › page")
    heading: str = Field(description="Afsnittets overskrift / the section's heading ('' before the first)")
    url: str = Field(description="Sidens URL med #anker til afsnittet / page URL with #anchor of the section")
    source: str
    path: str
    text: str
    score: float


class SearchResult(BaseModel):
    results: list[PassageOut]


class CitationOut(BaseModel):
    n: int = Field(description="Nummeret [n] i svaret / the number [n] in the answer")
    title: str
    breadcrumb: str
    heading: str
    url: str = Field(description="Siden og afsnittet / page URL #anchor")
    fragment_url: str = Field(description="url med tekstfragment der fremhæver citatet / url with a text fragment")
    snippet: str
    score: float
    source: str
    path: str


class AskResult(BaseModel):
    answer: str = Field(description="Svaret med [n]-henvisninger / the answer with [n] citation markers")
    answered: bool = Field(description="false: dokumentationen dækker det ikke; citations er de nærmeste sider "
                                       "/ false: the docs do not cover it; citations are the closest pages")
    language: str
    notice: str
    citations: list[CitationOut]


class SectionOut(BaseModel):
    heading: str
    level: int
    url: str


class PageOut(BaseModel):
    source: str
    path: str
    url: str
    uri: str = Field(description="MCP-ressourcen for siden / the page's MCP resource")
    title: str
    breadcrumb: str
    date: str
    markdown: str
    sections: list[SectionOut]


class SourceOut(BaseModel):
    name: str
    title: str
    description: str
    url: str
    pages: int
    chunks: int


class SourcesResult(BaseModel):
    sources: list[SourceOut]
    index_version: int
    last_ingest: str | None = Field(description="Seneste indlæsning (ISO 8601, UTC) / last ingest")


Query = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                             description="Søgeord eller spørgsmål / search words or a question")]
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                description="Spørgsmålet, på dansk eller engelsk / the question, in Danish or English")]


class DocsServer(MCPServer):
    """MCPServer whose resource list is the index's pages (a template serves them: docs://{source}/{+path})."""

    def __init__(self, assistant: Callable[[], Assistant | None], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._assistant = assistant
        self._sorted: tuple[list[DocPage], list[DocPage]] | None = None

    async def _handle_list_resources(self, ctx: Any, params: PaginatedRequestParams | None) -> ListResourcesResult:
        """resources/list, RESOURCES_PER_PAGE pages at a time, in URI order: the cursor is the last URI
        given, so a page added or removed between two calls neither repeats nor skips the others."""
        after = ""
        if params is not None and params.cursor is not None:
            try:
                after = base64.urlsafe_b64decode(params.cursor.encode("ascii")).decode("utf-8")
            except (ValueError, UnicodeError):
                after = ""
            if not after.startswith("docs://"):
                raise MCPError(INVALID_PARAMS, "Ugyldig cursor (invalid cursor): brug nextCursor fra det forrige svar.")
        listed = [] if after else await super().list_resources()  # the server's own, on the first page
        assistant = self._assistant()
        if assistant is None:
            return ListResourcesResult(resources=listed)
        pages = await anyio.to_thread.run_sync(self._sorted_pages, assistant)
        start = bisect.bisect_right(pages, after, key=lambda p: p.uri)
        chosen = pages[start : start + RESOURCES_PER_PAGE]
        more = start + RESOURCES_PER_PAGE < len(pages)
        return ListResourcesResult(
            resources=listed + [Resource(uri=p.uri, name=p.title, title=p.title, description=p.url,
                                         mime_type="text/markdown") for p in chosen],
            next_cursor=base64.urlsafe_b64encode(chosen[-1].uri.encode()).decode("ascii") if more and chosen else None)

    def _sorted_pages(self, assistant: Assistant) -> list[DocPage]:
        """The index's pages by URI, sorted once per index version (Assistant.pages is one list per version)."""
        pages = assistant.pages()
        if self._sorted is None or self._sorted[0] is not pages:
            self._sorted = (pages, sorted(pages, key=lambda p: p.uri))
        return self._sorted[1]


def build_server(assistant: Callable[[], Assistant | None], feedback: FeedbackStore | None) -> DocsServer:
    """The MCP server over whichever Assistant `assistant()` gives at the time of each call (the web app
    swaps it when it reloads), logging `ask` questions to `feedback` when given."""
    server = DocsServer(assistant, name="dokumentationsassistenten", title="Dokumentationsassistenten",
                        instructions=INSTRUCTIONS, log_level="WARNING")

    def current() -> Assistant:
        found = assistant()
        if found is None:
            raise ToolError(LOADING)
        return found

    @server.tool(annotations=READ_ONLY, description=(
        "Søg i dokumentationen: de bedste afsnit med titel, brødkrumme, overskrift, URL#anker og tekst. "
        "Search the documentation: the best passages with title, breadcrumb, heading, URL#anchor and text."))
    def search_docs(
        query: Query,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="Antal afsnit / number of passages (1-50)")] = 5,
        source: Annotated[str | None, Field(max_length=200, description=(
            "Kun denne kilde (navn fra list_sources) / only this source (a name from list_sources)"))] = None,
    ) -> SearchResult:
        docs = current()
        if source is not None:
            known = sorted(site.source for site in docs.sites())
            if source not in known:
                raise ToolError(f"Kilden {source[:200]!r} findes ikke (unknown source); kilderne er: {', '.join(known)}.")
        passages = _tool_call(lambda: docs.search(query, k, Filters(source=source) if source else None))
        return SearchResult(results=[
            PassageOut(title=p.chunk.title, breadcrumb=" › ".join(p.chunk.breadcrumb), heading=p.chunk.heading,
                       url=p.chunk.url, source=p.chunk.source, path=p.chunk.path, text=p.chunk.text,
                       score=round(p.score, 4))
            for p in passages])

    @server.tool(annotations=READ_ONLY, description=(
        "Besvar et spørgsmål ud fra dokumentationen, med nummererede kilder; dækker den det ikke, siges det, "
        "og de nærmeste sider nævnes. Answer a question from the documentation with numbered citations; "
        "when the docs do not cover it, it says so (answered=false) and lists the closest pages."))
    def ask(
        question: Question,
        history: Annotated[list[TurnModel] | None, Field(max_length=50, description=(
            "Tidligere ture i samtalen, ældste først / earlier turns of the conversation, oldest first"))] = None,
    ) -> AskResult:
        docs = current()
        turns = trim_history([t.turn() for t in history or []])
        answer = _tool_call(lambda: docs.ask(question, turns))
        payload = answer_payload(answer)
        if feedback is not None:
            feedback.log_question(question, answer.answered, payload["citations"], CHANNEL)
        return AskResult(**payload)

    @server.tool(annotations=READ_ONLY, description=(
        "Hent en hel side som markdown med dens afsnit og URL'er, ud fra URL eller sti (fra search_docs). "
        "Get a whole page as clean markdown with its sections and URLs, by URL or path (from search_docs)."))
    def get_page(
        url_or_path: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, description=(
            "Sidens URL (et #anker er ligegyldigt), sti i kilden (docs/x.md eller kilde:docs/x.md) eller docs://-URI "
            "/ the page URL (any #anchor), its path in the source or its docs:// URI"))],
    ) -> PageOut:
        docs = current()
        return page_out(_tool_call(lambda: docs.get_page(url_or_path)))

    @server.tool(annotations=READ_ONLY, description=(
        "De indlæste sites: navn, titel, URL, antal sider og seneste indlæsning. "
        "The ingested sites: name, title, URL, page count and the last ingest."))
    def list_sources() -> SourcesResult:
        docs = current()
        status = _tool_call(docs.status)
        chunks = _tool_call(docs.chunks_per_source)
        last = status.get("last_ingest")
        return SourcesResult(
            sources=[SourceOut(name=s.source, title=s.title, description=s.description, url=s.url,
                               pages=len(s.pages), chunks=chunks.get(s.source, 0)) for s in docs.sites()],
            index_version=int(status["version"]),
            last_ingest=dt.datetime.fromtimestamp(last, dt.UTC).isoformat(timespec="seconds") if last else None)

    @server.resource("docs://{source}/{+path}", name="page", mime_type="text/markdown", description=(
        "En side af dokumentationen som markdown / a documentation page as markdown"))
    def page_resource(source: str, path: str) -> str:
        docs = assistant()
        if docs is None:
            raise ResourceNotFoundError(LOADING)
        try:
            return docs.get_page(f"{source}:{path}").markdown
        except AssistantError as exc:
            raise ResourceNotFoundError(failure(exc, "mcp resource").message) from exc

    return server


def page_out(page: DocPage) -> PageOut:
    return PageOut(source=page.source, path=page.path, url=page.url, uri=page.uri, title=page.title,
                   breadcrumb=" › ".join(page.breadcrumb), date=page.date, markdown=page.markdown,
                   sections=[SectionOut(heading=s.heading, level=s.level, url=s.url) for s in page.sections if s.heading])


def _tool_call(call: Callable[[], T]) -> T:
    """The Assistant's errors as tool errors with the message a person (or agent) can act on (a bug is
    the SDK's: "Error executing tool", its traceback in the log)."""
    try:
        return call()
    except AssistantError as exc:
        raise ToolError(failure(exc, "mcp tool").message) from exc
