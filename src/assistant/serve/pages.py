"""The published pages of the index, put back together from their chunks, and what is known of each
site: for the MCP tools and resources (get_page, list_sources) and for llms.txt.

A chunk holds the text a reader sees under one heading, so a page is its title, then each heading
with the text under it, in page order. Nothing here reads a page's source file: a page that is not
in the index does not exist (`../../etc/passwd` is simply not found). The one file read is the
site's `_config.yml` (its title and description), through the same hostile-source checks as ingest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from assistant.models import Chunk
from assistant.settings import Settings
from assistant.sites.jekyll import MAX_CONFIG_BYTES, load_yaml
from assistant.sites.source_files import SourceFileError, read_source_file
from assistant.sites.sources import clone_folder, load_sources
from assistant.text import split_code, split_sentences

log = logging.getLogger("assistant.pages")

RESOURCE_SCHEME = "docs"  # docs://{source}/{path}: one MCP resource URI per page
SUMMARY_CHARS = 200


@dataclass(frozen=True)
class PageSection:
    heading: str  # "" for the text before the first heading
    level: int  # markdown heading level (1: the page's title as a heading); 0 for the text before the first
    url: str  # the page URL, + #anchor when the heading has one
    text: str


@dataclass(frozen=True)
class DocPage:
    source: str
    path: str  # relative to the source root
    url: str  # published URL, no anchor
    title: str
    breadcrumb: tuple[str, ...]  # grand_parent, parent, title
    date: str
    sections: tuple[PageSection, ...]

    @property
    def uri(self) -> str:
        return f"{RESOURCE_SCHEME}://{quote(self.source, safe='')}/{quote(self.path)}"

    @property
    def markdown(self) -> str:
        """The page as clean markdown: `# title`, then each heading at its level with its text."""
        parts = [] if self.sections and self.sections[0].level == 1 else [f"# {self.title}"]  # its H1 is the title
        for section in self.sections:
            if section.heading:
                parts.append(f"{'#' * section.level} {section.heading}")
            if section.text:
                parts.append(section.text)
        return "\n\n".join(parts) + "\n"

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)

    @property
    def summary(self) -> str:
        """The page's first sentence of prose (at most SUMMARY_CHARS), or "" when it has none."""
        for line in split_code(self.text)[0]:
            line = line.strip().lstrip("-*+• ").strip()
            if len(line) < 3 or line.startswith("|") or line == self.title:
                continue
            sentence = split_sentences(line)[0]
            if len(sentence) > SUMMARY_CHARS:
                sentence = sentence[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
            return sentence
        return ""


def pages_from_chunks(chunks: Iterable[Chunk]) -> list[DocPage]:
    """Every page of the chunks (ordered by source, path, ordinal as the catalog gives them)."""
    by_page: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        by_page.setdefault((chunk.source, chunk.path), []).append(chunk)
    return [_page(sorted(parts, key=lambda c: c.ordinal)) for parts in by_page.values()]


def _page(chunks: list[Chunk]) -> DocPage:
    first = chunks[0]
    url = first.url.split("#", 1)[0]
    tops = {c.headings[0] for c in chunks if c.headings}
    # An H1 over the whole page (the title as a heading): it is level 1, its subheadings 2, ...
    shift = 0 if len(tops) == 1 and all(c.headings for c in chunks) else 1
    sections: list[PageSection] = []
    for chunk in chunks:
        text = chunk.text.strip()
        if not chunk.headings and text == first.title:
            text = ""  # a page without text is chunked as its title alone
        if sections and sections[-1].heading == chunk.heading and sections[-1].url == chunk.url:  # one section, split
            previous = sections[-1]
            sections[-1] = PageSection(previous.heading, previous.level, previous.url, f"{previous.text}\n\n{text}".strip())
            continue
        level = min(6, len(chunk.headings) + shift) if chunk.headings else 0
        sections.append(PageSection(chunk.heading, level, chunk.url, text))
    return DocPage(first.source, first.path, url, first.title, first.breadcrumb, first.date, tuple(sections))


def find_pages(pages: Sequence[DocPage], reference: str) -> list[DocPage]:
    """The pages a reference names: a published URL (anchor, query, `.html` and a trailing slash do not
    matter; percent-encoding neither), its path on the site (`/docs/faq.html`), a path in the source
    (`docs/faq.md`, optionally as `source:docs/faq.md`) or a resource URI (`docs://source/docs/faq.md`).
    More than one when the same path exists in several sources."""
    ref = reference.strip()
    if not ref:
        return []
    if ref.startswith(f"{RESOURCE_SCHEME}://"):
        source, _, path = ref[len(RESOURCE_SCHEME) + 3:].partition("/")
        return [p for p in pages if p.source == unquote(source) and p.path == unquote(path)]
    if ref.lower().startswith(("http://", "https://")):
        wanted = _url_key(ref)
        return [p for p in pages if _url_key(p.url) == wanted]
    source, sep, rest = ref.partition(":")
    if sep and any(p.source == source for p in pages):
        return [p for p in pages if p.source == source and p.path == rest.lstrip("/")]
    path = unquote(ref).lstrip("/")
    found = [p for p in pages if p.path == path]
    if found:
        return found
    site_path = _path_key(ref)  # the page's path on the site: /docs/faq.html
    return [p for p in pages if _path_key(urlsplit(p.url).path) == site_path]


def _url_key(url: str) -> tuple[str, str]:
    parts = urlsplit(url.strip())
    return parts.netloc.lower(), _path_key(parts.path)


def _path_key(path: str) -> str:
    path = unquote(path.split("#", 1)[0].split("?", 1)[0])
    return path.removesuffix("index.html").removesuffix(".html").strip("/")


@dataclass(frozen=True)
class SiteInfo:
    """One source as a site: its title and description (from `_config.yml`, else its name and its
    home page's first sentence), its home URL and its pages in page order."""

    source: str
    title: str
    description: str
    url: str
    pages: tuple[DocPage, ...]


def site_infos(settings: Settings, pages: Sequence[DocPage]) -> list[SiteInfo]:
    by_source: dict[str, list[DocPage]] = {}
    for page in pages:
        by_source.setdefault(page.source, []).append(page)
    return [site_info(settings, source, site_pages) for source, site_pages in sorted(by_source.items())]


def site_info(settings: Settings, source: str, pages: Sequence[DocPage]) -> SiteInfo:
    home = home_page(pages)
    config = _site_config(settings, source)
    title = _config_text(config.get("title")) or source
    description = _config_text(config.get("description")) or (home.summary if home else "")
    url = home.url if home else _common_base([p.url for p in pages])
    ordered = sorted(pages, key=lambda p: (p is not home, p.url))
    return SiteInfo(source, title, description, url, tuple(ordered))


def home_page(pages: Sequence[DocPage]) -> DocPage | None:
    """The site's front page: its index.md (or index.html) at the top, else the page with the shortest URL."""
    for page in pages:
        if page.path in ("index.md", "index.markdown", "index.html", "README.md"):
            return page
    return min(pages, key=lambda p: (len(p.url), p.url), default=None)


def _common_base(urls: list[str]) -> str:
    if not urls:
        return ""
    prefix = urls[0]
    for url in urls[1:]:
        while not url.startswith(prefix):
            prefix = prefix[:-1]
    return prefix[: prefix.rfind("/") + 1] if "/" in prefix else prefix


def _config_text(value: object) -> str:
    return " ".join(value.split())[:300] if isinstance(value, str) else ""


def _site_config(settings: Settings, source: str) -> dict:
    """The `_config.yml` of a source listed in the sources file, read as ingest reads it; {} when
    the source, its folder or the file cannot be found or read."""
    try:
        spec = next((s for s in load_sources(Path(settings.sources_file)) if s.name == source), None)
    except Exception as exc:  # noqa: BLE001 - a title is not worth a failed request: the source's name serves
        log.debug("no sources file for the site titles: %s", exc)
        return {}
    if spec is None:
        return {}
    root = spec.path or clone_folder(Path(settings.cache_dir), spec.name)
    try:
        loaded = load_yaml(read_source_file(root, "_config.yml", MAX_CONFIG_BYTES).decode("utf-8-sig"))
    except (SourceFileError, UnicodeDecodeError, ValueError) as exc:
        log.debug("no site title for %s: %s", source, exc)
        return {}
    except Exception as exc:  # noqa: BLE001 - YAML errors of a hostile file: the site has no title
        log.warning("%s/_config.yml is not read for its title: %s", source, exc)
        return {}
    return loaded if isinstance(loaded, dict) else {}
