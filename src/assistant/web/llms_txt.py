"""/llms.txt and /llms-full.txt (the llmstxt.org format) for the ingested sites, from the index.

    /llms.txt                 `# title`, `> description`, a line of details, then per section (by
                              breadcrumb) a list of `- [Title](URL): first sentence`
    /llms-full.txt            the same header, then every page's clean text under `## Title`
    /llms/{source}.txt        one site's files, when the index has several sources
    /llms/{source}-full.txt

The files are rendered from the Assistant's pages (pages.py) when asked for and kept per index
version, so the request after a re-ingest gets new ones. It neither crawls nor reads the sites.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from assistant.serve.pages import DocPage, SiteInfo

PAGES_SECTION = "Sider"  # pages with neither a parent nor children
MEDIA_TYPE = "text/plain; charset=utf-8"


def render_llms_txt(sites: Sequence[SiteInfo], full: bool = False) -> str:
    """The llms.txt (or, `full`, llms-full.txt) of one or more sites."""
    lines = _header(sites, full)
    several = len(sites) > 1
    for site in sites:
        if full:
            for page in site.pages:
                lines += ["", f"## {_one_line(page.title)}", "", f"Kilde: {link_url(page.url)}", "", *_page_body(page)]
            continue
        for section, pages in _sections(site.pages):
            name = f"{site.title} › {section}" if several else section
            lines += ["", f"## {_one_line(name)}", ""]
            lines += [_entry(page) for page in pages]
    return "\n".join(lines).rstrip() + "\n"


def _header(sites: Sequence[SiteInfo], full: bool) -> list[str]:
    if len(sites) == 1:
        site = sites[0]
        title, description = site.title, site.description
        details = f"{len(site.pages)} sider fra {site.title}"
    else:
        title = " · ".join(site.title for site in sites) or "Dokumentation"
        description = "; ".join(f"{s.title}: {s.description}" if s.description else s.title for s in sites)
        details = (f"{sum(len(s.pages) for s in sites)} sider fra {len(sites)} sites; hvert site har sin egen fil: "
                   + ", ".join(f"llms/{quote(s.source, safe='')}.txt" for s in sites))
    details += (", med hver sides tekst." if full else
                ", ordnet efter brødkrummer. Hver sides tekst står i llms-full.txt.")
    lines = [f"# {_one_line(title)}", ""]
    if description:
        lines += [f"> {_one_line(description)}", ""]
    return [*lines, details]


def _sections(pages: Sequence[DocPage]) -> list[tuple[str, list[DocPage]]]:
    """Pages grouped by their parents in the breadcrumb (a page that is a parent heads its children's
    section), in page order."""
    parents = {p.breadcrumb[0] for p in pages if len(p.breadcrumb) > 1}
    grouped: dict[str, list[DocPage]] = {}
    for page in pages:
        trail = page.breadcrumb[:-1] if page.breadcrumb and page.breadcrumb[-1] == page.title else page.breadcrumb
        if trail:
            section = " › ".join(trail)
        else:
            section = page.title if page.title in parents else PAGES_SECTION
        grouped.setdefault(section, []).append(page)
    return list(grouped.items())


def _entry(page: DocPage) -> str:
    summary = _one_line(page.summary)
    return f"- [{_link_text(page.title)}]({link_url(page.url)})" + (f": {summary}" if summary else "")


def _page_body(page: DocPage) -> list[str]:
    """The page's sections one level below its `## Title`; its own top heading is that title."""
    lines: list[str] = []
    for section in page.sections:
        if section.heading and section.level > 1:
            lines += [f"{'#' * min(6, section.level + 1)} {_one_line(section.heading)}", ""]
        if section.text:
            lines += [section.text, ""]
    return lines


def link_url(url: str) -> str:
    """A URL as a markdown link target: spaces, parentheses and angle brackets percent-encoded."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~")


def _link_text(text: str) -> str:
    return _one_line(text).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class LlmsFiles:
    """The rendered files of one index version: rebuilt on the first request after a re-ingest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: object = None
        self._files: dict[tuple[str | None, bool], str] = {}

    def get(self, version: object, sites: Sequence[SiteInfo], source: str | None, full: bool) -> str | None:
        """The file of `source` (None: all sites), or None when there is no such source."""
        with self._lock:
            if version != self._version:
                self._version, self._files = version, {}
            key = (source, full)
            if key not in self._files:
                chosen = [s for s in sites if source is None or s.source == source]
                if not chosen:
                    return None
                self._files[key] = render_llms_txt(chosen, full)
            return self._files[key]


def build_llms_router() -> APIRouter:
    """GET /llms.txt, /llms-full.txt and /llms/{source}.txt (and -full.txt) from `app.state.assistant`."""
    router = APIRouter()
    files = LlmsFiles()

    def reply(request: Request, source: str | None, full: bool) -> PlainTextResponse:
        assistant = request.app.state.assistant
        if assistant is None:
            return PlainTextResponse("Assistenten indlæses. Prøv igen om lidt.\n", status_code=503)
        sites = assistant.sites()
        text = files.get(assistant.retriever.snapshot().version, sites, source, full)
        if text is None:
            known = ", ".join(s.source for s in sites)
            return PlainTextResponse(f"Kilden findes ikke. Kilderne er: {known}\n", status_code=404)
        return PlainTextResponse(text, media_type=MEDIA_TYPE, headers={"Cache-Control": "public, max-age=300"})

    @router.get("/llms.txt", summary="llms.txt (llmstxt.org) of the ingested sites", response_class=PlainTextResponse)
    def llms_txt(request: Request) -> PlainTextResponse:
        return reply(request, None, False)

    @router.get("/llms-full.txt", summary="llms-full.txt: every page's text", response_class=PlainTextResponse)
    def llms_full_txt(request: Request) -> PlainTextResponse:
        return reply(request, None, True)

    @router.get("/llms/{name}.txt", summary="llms.txt (or {source}-full.txt) of one source", response_class=PlainTextResponse)
    def llms_source_txt(name: str, request: Request) -> PlainTextResponse:
        sources = {s.source for s in request.app.state.assistant.sites()} if request.app.state.assistant else set()
        if name not in sources and name.endswith("-full") and name.removesuffix("-full") in sources:
            return reply(request, name.removesuffix("-full"), True)
        return reply(request, name, False)

    return router
