"""Read one source folder into Pages: only what the site publishes (Jekyll or MkDocs, as
assistant/sites/site_reader.py tells), at its published URL; every file not published is counted by reason
in a notice of the report.

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
from urllib.parse import quote

import ftfy
import markdown_it
import yaml

from assistant import models
from assistant import text as reader_text
from assistant.errors import SourceError
from assistant.models import Page, sha1
from assistant.sites import factory, jekyll, jekyll_config, markdown_file, mkdocs, safe_yaml, site_reader
from assistant.sites.factory import open_site
from assistant.sites.markdown_file import MAX_FILE_BYTES, ParseError, markdown_files
from assistant.sites.site_reader import SiteReader, Skipped, settings_digest
from assistant.sites.source_files import SourceFileError, read_source_file
from ingest import html_text, parse
from ingest.parse import parse_markdown_file

PARSE_BUDGET_SECONDS = 2.0  # a docs page parses in milliseconds; seconds mean pathological markup


@dataclass
class SiteScan:
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason → files the site does not publish
    unchanged: list[str] = field(default_factory=list)  # files with their recorded key: not parsed
    notices: list[str] = field(default_factory=list)  # worth knowing, nothing wrong: e.g. an inferred site URL

    def skip(self, rel: str, reason: str) -> None:
        self.skipped.setdefault(reason, []).append(rel)

    def skip_notice(self) -> str:
        """`skipped 5 files: 3 draft (_drafts), 2 published: false` for the report; "" when none."""
        counts = sorted(((len(files), reason) for reason, files in self.skipped.items()), key=lambda c: (-c[0], c[1]))
        total = sum(n for n, _ in counts)
        return f"skipped {total} file{'s' * (total != 1)}: " + ", ".join(f"{n} {r}" for n, r in counts) if total else ""


def _reader_version() -> bytes:
    """The code that turns a file into a Page, as loaded by this process (so at import: code updated
    on disk under a running server is not what it reads with), with ftfy's, markdown-it's and PyYAML's
    versions: a change to any of them reads every file again."""
    digest = hashlib.sha1(f"{ftfy.__version__}\x00{markdown_it.__version__}\x00{yaml.__version__}".encode())
    # What a page's text depends on: these modules, and the reader text's contract (assistant/text.py),
    # whose sentences are embedded at ingest.
    digest.update(Path(__file__).read_bytes())
    for module in (parse, html_text, jekyll, jekyll_config, mkdocs, site_reader, factory, safe_yaml, markdown_file, models,
                   reader_text):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


_READER_VERSION = _reader_version()


def file_key(data: bytes, reader: SiteReader, source: str) -> str:
    settings = f"{source}\x00{reader.base}\x00{settings_digest(reader)}".encode()
    return hashlib.sha1(_READER_VERSION + settings + b"\x00" + data).hexdigest()


def scan_site(root: Path, source: str, site_url: str = "", known: Mapping[str, str] | None = None,
              inferred_url: str = "", generator: str = "") -> SiteScan:
    """The site's pages; files whose key is `known[path]` are listed in `unchanged` instead.
    `inferred_url` is the site's address when nothing in it (nor `site_url`) says (sources.github_pages_url);
    `generator` the source's (sources.toml), else it is detected from the folder."""
    if not root.exists():
        raise SourceError(f"Source {source!r}: folder {root} does not exist — check corpus/sources.toml")
    if not root.is_dir():
        raise SourceError(f"Source {source!r}: {root} is not a folder")
    reader = open_site(root, generator, site_url, inferred_url)
    scan = SiteScan(pages=[], warnings=list(reader.warnings))
    if reader.url_from == "inferred":
        where = "no site_url in mkdocs.yml" if reader.generator == "mkdocs" else "no url in _config.yml, no CNAME"
        scan.notices.append(f"{where} and no site_url: citations link to "
                            f"{reader.base}/, inferred from its GitHub remote (set site_url to change it)")
    elif not reader.url_from:
        scan.warnings.append(f"{source}: no published URL (no url in _config.yml, no CNAME, no site_url): citations "
                             "show the page title and path without a link. Give the site's address with "
                             "`--site-url https://…` or site_url = \"https://…\" in sources.toml")
    top = reader.markdown_root()
    found = markdown_files(root / top if top else root, lambda problem: scan.warnings.append(f"{source}: {problem}"))
    files = [f"{top}/{rel}" if top else rel for rel in found]
    if not files:
        raise SourceError(f"Source {source!r}: no markdown files in {root / top if top else root}")
    for rel in files:
        reason = reader.skip_reason(rel)
        if reason:
            scan.skip(rel, reason)
            continue
        page = _read_page(root, rel, source, reader, known, scan)
        if page is not None:
            scan.pages.append(page)
    if scan.skipped:
        scan.notices.append(scan.skip_notice())
    return scan


def _read_page(root: Path, rel: str, source: str, reader: SiteReader, known: Mapping[str, str] | None,
               scan: SiteScan) -> Page | None:
    """The page of one published file; None when it is unchanged (listed), skipped or unreadable (said)."""
    try:
        data = read_source_file(root, rel, MAX_FILE_BYTES)
        key = file_key(data, reader, source)
        if known and known.get(rel) == key:
            scan.unchanged.append(rel)
            return None
        started = time.perf_counter()
        parsed = parse_markdown_file(reader.prepare(rel, data), rel)
        seconds = time.perf_counter() - started
    except (ParseError, SourceFileError) as exc:
        scan.warnings.append(f"{source}: {exc}; skipped")
        return None
    scan.warnings.extend(f"{source}: {w}" for w in parsed.warnings)
    if seconds > PARSE_BUDGET_SECONDS:
        scan.warnings.append(
            f"{source}: {rel}: parsing took {seconds:.1f} s (budget {PARSE_BUDGET_SECONDS:g} s); "
            "ingested, but check the page for runaway markup"
        )
    placed = reader.place(rel, parsed.front_matter, parsed.sections)
    if isinstance(placed, Skipped):
        scan.skip(rel, placed.reason)
        return None
    front = placed.front_matter
    if front is not None and front.get("redirect_to"):
        scan.skip(rel, "redirect (redirect_to)")  # jekyll-redirect-from serves a redirect, not this text
        return None
    url = reader.base + quote(placed.url_path, safe="/:@!$&'()*+,;=-._~")
    title = placed.title or parsed.title
    crumbs = [str(front.get(k) or "").strip() for k in ("grand_parent", "parent")] if front else []
    breadcrumb = placed.breadcrumb or tuple(c for c in (*crumbs, title) if c)
    return Page(
        source=source,
        path=rel,
        url=url,
        title=title,
        breadcrumb=breadcrumb,
        date=str((front or {}).get("date") or ""),
        # how the text is read is part of it: a page is chunked again when the reader changes
        content_hash=sha1(f"{_READER_VERSION.hex()}\x00{url}\x00{title}\x00{parsed.text}"),
        rendered=placed.rendered,
        sections=placed.sections if placed.sections is not None else parsed.sections,
        links=parsed.links,
        file_key=key,
    )
