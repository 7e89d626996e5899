"""Read one Jekyll source folder into Pages: only what the site publishes, at its published URL.

Bad files (binary, undecodable, too large, unreadable symlinks, FIFOs and devices) are skipped with
a warning naming them; they never stop the run. Symlinks are not followed out of the source root, and
folders reached through symlinks are not entered (no loops). A page that takes longer than
PARSE_BUDGET_SECONDS to parse is ingested, with a warning naming it. A file whose key (its bytes, the
site's URL settings and the reading code) is the one recorded at the last ingest is not parsed again:
a re-ingest of a large unchanged site reads its files and parses nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import ftfy
import markdown_it
import yaml

from assistant import jekyll, markdown_file, models
from assistant import text as reader_text
from assistant.errors import SourceError
from assistant.jekyll import SiteConfig, absolute_url, is_published, load_site_config, page_url_path
from assistant.markdown_file import MAX_FILE_BYTES, ParseError, markdown_files
from assistant.models import Page, sha1
from assistant.source_files import SourceFileError, read_source_file
from ingest import html_text, parse
from ingest.parse import parse_markdown_file

PARSE_BUDGET_SECONDS = 2.0  # a docs page parses in milliseconds; seconds mean pathological markup


@dataclass
class SiteScan:
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unpublished markdown, for the report
    unchanged: list[str] = field(default_factory=list)  # files with their recorded key: not parsed
    notices: list[str] = field(default_factory=list)  # worth knowing, nothing wrong: e.g. an inferred site URL


def _reader_version() -> bytes:
    """The code that turns a file into a Page, as loaded by this process (so at import: code updated
    on disk under a running server is not what it reads with), with ftfy's, markdown-it's and PyYAML's
    versions: a change to any of them reads every file again."""
    digest = hashlib.sha1(f"{ftfy.__version__}\x00{markdown_it.__version__}\x00{yaml.__version__}".encode())
    # What a page's text depends on: these modules, and the reader text's contract (assistant/text.py),
    # whose sentences are embedded at ingest.
    digest.update(Path(__file__).read_bytes())
    for module in (parse, html_text, jekyll, markdown_file, models, reader_text):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


_READER_VERSION = _reader_version()


def file_key(data: bytes, config: SiteConfig, source: str) -> str:
    settings = f"{source}\x00{config.url}\x00{config.baseurl}\x00{config.permalink}".encode()
    return hashlib.sha1(_READER_VERSION + settings + b"\x00" + data).hexdigest()


def scan_site(root: Path, source: str, site_url: str = "", known: Mapping[str, str] | None = None,
              inferred_url: str = "") -> SiteScan:
    """The site's pages; files whose key is `known[path]` are listed in `unchanged` instead.
    `inferred_url` is the site's address when nothing in it (nor `site_url`) says (sources.github_pages_url)."""
    if not root.exists():
        raise SourceError(f"Source {source!r}: folder {root} does not exist — check corpus/sources.toml")
    if not root.is_dir():
        raise SourceError(f"Source {source!r}: {root} is not a folder")
    config = load_site_config(root, site_url, inferred_url)
    scan = SiteScan(pages=[], warnings=list(config.warnings))
    if config.url_from == "inferred":
        scan.notices.append(f"no url in _config.yml, no CNAME and no site_url: citations link to "
                            f"{config.base}/, inferred from its GitHub remote (set site_url to change it)")
    elif not config.url_from:
        scan.warnings.append(f"{source}: no published URL (no url in _config.yml, no CNAME, no site_url): citations "
                             "show the page title and path without a link. Give the site's address with "
                             "`--site-url https://…` or site_url = \"https://…\" in sources.toml")
    files = markdown_files(root, lambda problem: scan.warnings.append(f"{source}: {problem}"))
    if not files:
        raise SourceError(f"Source {source!r}: no markdown files in {root}")
    for rel in files:
        if not is_published(rel, config):
            scan.skipped.append(rel)
            continue
        try:
            data = read_source_file(root, rel, MAX_FILE_BYTES)
            key = file_key(data, config, source)
            if known and known.get(rel) == key:
                scan.unchanged.append(rel)
                continue
            started = time.perf_counter()
            parsed = parse_markdown_file(data, rel)
            seconds = time.perf_counter() - started
        except (ParseError, SourceFileError) as exc:
            scan.warnings.append(f"{source}: {exc}; skipped")
            continue
        scan.warnings.extend(f"{source}: {w}" for w in parsed.warnings)
        if seconds > PARSE_BUDGET_SECONDS:
            scan.warnings.append(
                f"{source}: {rel}: parsing took {seconds:.1f} s (budget {PARSE_BUDGET_SECONDS:g} s); "
                "ingested, but check the page for runaway markup"
            )
        front = parsed.front_matter
        if not jekyll.published_by_front_matter(front):
            scan.skipped.append(rel)
            continue
        if front is not None and front.get("redirect_to"):
            scan.skipped.append(rel)  # jekyll-redirect-from serves a redirect, not this text
            continue
        url = absolute_url(page_url_path(rel, front, config), config)
        crumbs = [str(front.get(k) or "").strip() for k in ("grand_parent", "parent")] if front else []
        breadcrumb = tuple(c for c in (*crumbs, parsed.title) if c)
        scan.pages.append(
            Page(
                source=source,
                path=rel,
                url=url,
                title=parsed.title,
                breadcrumb=breadcrumb,
                date=str((front or {}).get("date") or ""),
                # how the text is read is part of it: a page is chunked again when the reader changes
                content_hash=sha1(f"{_READER_VERSION.hex()}\x00{url}\x00{parsed.text}"),
                rendered=front is not None,
                sections=parsed.sections,
                links=parsed.links,
                file_key=key,
            )
        )
    return scan
