"""Sites the assistant serves itself: a source whose site_url is a path (`site_url = "/guide/"`, its
user guide) is served as HTML under that path, so that its citations open a real page and section.

Each page is at the URL Jekyll would publish it at (assistant/sites/site_reader.py: collections, defaults,
`published: false` as ingest reads them), its headings carry kramdown's
ids (the citation anchors), and links to other `.md` pages of the site lead to their pages. Raw HTML
in the markdown is shown as text and Liquid is removed: the pages are served from the assistant's
own origin. There is no theme, search or asset serving; a site with more than that belongs on a web
server, with its real address as site_url.
"""

from __future__ import annotations

import html
import logging
import os
import posixpath
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt

from assistant.sites.factory import open_site
from assistant.sites.jekyll import MAX_CONFIG_BYTES, kramdown_anchor, load_yaml
from assistant.sites.markdown_file import (
    MAX_FILE_BYTES,
    decode_markdown,
    markdown_files,
    split_front_matter,
    strip_html_comments,
    strip_liquid,
)
from assistant.sites.site_reader import Skipped
from assistant.sites.source_files import SourceFileError, read_source_file

log = logging.getLogger("guide")

# Paths of the app's own routes: a site is never served over them.
RESERVED = ("/api/", "/admin/", "/mcp/", "/docs/", "/redoc/", "/widget/", "/widget.js/", "/healthz/", "/readyz/",
            "/llms/", "/gradio_api/", "/static/", "/assets/", "/file/", "/config/", "/theme.css/")

_md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass
class GuidePage:
    rel: str  # the markdown file, relative to the site folder
    title: str
    order: float  # nav_order


RESCAN_SECONDS = 60.0  # a page edited in place (a new permalink) is found at its new URL within this


class ServedSite:
    """One folder served under `prefix` (`/guide/`). Its pages are found again when one is asked for
    that is missing and the folders changed since the last scan (or RESCAN_SECONDS passed): a stream of
    404s costs a stat per folder each, not a read of every page."""

    def __init__(self, prefix: str, root: Path, name: str) -> None:
        self.prefix, self.root, self.name = prefix, root, name
        self.pages: dict[str, GuidePage] = {}  # URL path under the prefix ("docs/x.html", "") → page
        self.title = name
        self.scanned_at = 0.0
        self.folders: dict[str, int] = {}  # folder → its mtime (ns) at the last scan
        self.scan()

    def scan(self) -> None:
        self.scanned_at = time.monotonic()
        self.folders = _folder_times(self.root)
        # A folder changed in the last moments may change again within its mtime's granularity
        # unseen (as git's "racy" files): such a scan is checked again at the next miss.
        self.racy = max(self.folders.values()) > time.time_ns() - 2_000_000_000
        site = open_site(self.root, "jekyll")  # what ingest reads (ingest/site.py), so citations open here
        raw_title = _site_title(self.root)
        self.title = raw_title or self.name
        pages: dict[str, GuidePage] = {}
        for rel in markdown_files(self.root, lambda problem: log.warning("%s: %s", self.name, problem)):
            if site.skip_reason(rel):
                continue
            front, _ = self._read(rel)
            placed = site.place(rel, front, [])
            if isinstance(placed, Skipped) or not placed.rendered:  # a static file is not a page here
                continue
            front = placed.front_matter or {}
            title = str(front.get("title") or rel.rsplit("/", 1)[-1].rsplit(".", 1)[0])
            order = front.get("nav_order")
            pages[placed.url_path.lstrip("/")] = GuidePage(
                rel, title, float(order) if isinstance(order, int | float) else 1e9)
        self.pages = pages

    def _read(self, rel: str) -> tuple[dict | None, str]:
        try:
            text, _ = decode_markdown(read_source_file(self.root, rel, MAX_FILE_BYTES), rel)
        except SourceFileError as exc:
            log.warning("%s: %s", self.name, exc)
            return None, ""
        front, body, _ = split_front_matter(text, rel)
        return front, body

    def page(self, *url_paths: str) -> GuidePage | None:
        """The page at the first of these URL paths that has one; the site is scanned again first when
        none has and it may have changed."""
        found = next((self.pages[p] for p in url_paths if p in self.pages), None)
        if found is None and self._may_have_changed():
            self.scan()
            found = next((self.pages[p] for p in url_paths if p in self.pages), None)
        return found

    def _may_have_changed(self) -> bool:
        if self.racy or time.monotonic() - self.scanned_at > RESCAN_SECONDS:
            return True
        return any(_mtime(Path(folder)) != mtime for folder, mtime in self.folders.items())

    def render(self, url_path: str, page: GuidePage) -> str:
        _, body = self._read(page.rel)
        tokens = _md.parse(strip_html_comments(strip_liquid(body)))
        seen: Counter[str] = Counter()
        by_rel = {p.rel: path for path, p in self.pages.items()}
        for i, token in enumerate(tokens):
            if token.type == "heading_open" and tokens[i + 1].content.strip():
                token.attrSet("id", kramdown_anchor(tokens[i + 1].content, seen))
            for child in token.children or ():
                if child.type == "link_open":
                    child.attrSet("href", self._link(str(child.attrGet("href") or ""), page.rel, by_rel))
        content = _md.renderer.render(tokens, _md.options, {})
        nav = "".join(
            f'<li><a href="{html.escape(self.href(path), quote=True)}"'
            f'{" aria-current=page" if path == url_path else ""}>{html.escape(p.title)}</a></li>'
            for path, p in sorted(self.pages.items(), key=lambda item: (item[1].order, item[1].title)))
        return PAGE.format(title=html.escape(page.title), site=html.escape(self.title), nav=nav, content=content,
                           home=html.escape(self.prefix, quote=True))

    def href(self, url_path: str) -> str:
        return self.prefix + quote(url_path, safe="/:@!$&'()*+,;=-._~")

    def _link(self, href: str, rel: str, by_rel: dict[str, str]) -> str:
        """A relative link to another markdown page of the site → that page's URL (as jekyll-relative-links does)."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("/") or not parts.path.endswith((".md", ".markdown")):
            return href
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(parts.path)))
        if target not in by_rel:
            return href
        return self.href(by_rel[target]) + (f"#{parts.fragment}" if parts.fragment else "")


def _folder_times(root: Path) -> dict[str, int]:
    """Every folder of the site (symlinked ones not entered) and its mtime: a file added, removed or
    renamed in one changes it."""
    times = {str(root): _mtime(root)}
    for folder, dirs, _ in os.walk(root, followlinks=False):
        times.update((os.path.join(folder, d), _mtime(Path(folder, d))) for d in dirs)
    return times


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _site_title(root: Path) -> str:
    try:
        loaded = load_yaml(read_source_file(root, "_config.yml", MAX_CONFIG_BYTES).decode("utf-8-sig"))
    except Exception:  # noqa: BLE001 - no readable _config.yml: the source's name is the title
        return ""
    title = loaded.get("title") if isinstance(loaded, dict) else None
    return str(title).strip() if title else ""


def build_guide_router(sites: list[tuple[str, Path, str]]) -> APIRouter:
    """Routes for each (path prefix such as `/guide/`, folder, source name); a prefix over one of the
    app's own routes is refused with a warning."""
    router = APIRouter()
    for prefix, root, name in sites:
        if any(prefix.startswith(r) or r.startswith(prefix) for r in RESERVED) or prefix == "/":
            log.warning("source %s: site_url %s would cover the assistant's own pages; it is not served", name, prefix)
            continue
        if not root.is_dir():
            log.warning("source %s: folder %s does not exist; %s is not served", name, root, prefix)
            continue
        _add_site(router, ServedSite(prefix, root, name))
        log.info("serving source %s from %s at %s", name, root, prefix)
    return router


def _add_site(router: APIRouter, site: ServedSite) -> None:
    @router.get(site.prefix.rstrip("/"), include_in_schema=False)
    def site_root() -> Response:
        return RedirectResponse(site.prefix, status_code=308)

    @router.get(site.prefix + "{url_path:path}", include_in_schema=False, response_class=HTMLResponse)
    def site_page(url_path: str) -> HTMLResponse:
        page = site.page(url_path, url_path.rstrip("/") + "/" if url_path else "")
        if page is None:
            raise HTTPException(404, "Siden findes ikke i vejledningen.")
        return HTMLResponse(site.render(url_path, page), headers={"Cache-Control": "no-cache"})


PAGE = """<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {site}</title>
<style>
  :root {{ color-scheme: light dark; --fg: #1a1a1a; --bg: #fff; --muted: #4a4a4a; --code: #f2f2f2; --link: #0645ad; }}
  @media (prefers-color-scheme: dark) {{
    :root {{ --fg: #ececec; --bg: #161616; --muted: #c4c4c4; --code: #262626; --link: #8ab4f8; }}
  }}
  body {{ font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
         background: var(--bg); margin: 0 auto; max-width: 64rem; padding: 1rem; display: flex; gap: 2rem; }}
  nav {{ flex: 0 0 14rem; }} main {{ flex: 1; min-width: 0; }}
  @media (max-width: 700px) {{ body {{ display: block; }} }}
  a {{ color: var(--link); }} nav a[aria-current] {{ font-weight: bold; }}
  pre {{ background: var(--code); padding: .75rem; border-radius: 6px; overflow-x: auto; }}
  code {{ font: 14px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }}
  table {{ border-collapse: collapse; }} td, th {{ text-align: left; padding: .25rem .75rem .25rem 0; }}
  :target {{ scroll-margin-top: 1rem; background: color-mix(in srgb, var(--link) 12%, transparent); }}
</style>
</head>
<body>
<nav aria-label="Vejledningen"><p><a href="{home}"><strong>{site}</strong></a></p><ul>{nav}</ul>
<p><a href="/">Spørg assistenten</a></p></nav>
<main>
{content}
</main>
</body>
</html>
"""
