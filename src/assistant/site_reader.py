"""Which generator publishes a source folder, and what it publishes where: the one question ingest
(ingest/site.py) and the sites the app serves itself (web/guide.py) ask of a site.

A `SiteReader` (Jekyll here, MkDocs in mkdocs.py) says from a file's path whether it is published (or
why not), may rewrite its markdown before it is parsed (MkDocs' admonitions and tabs), and from its
front matter and parsed sections where it is published, under which title and anchors. The generator
is detected from the folder (mkdocs.yml → MkDocs, else Jekyll) or named by the source. It does not
read nor parse the files themselves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assistant import jekyll
from assistant.errors import SourceError
from assistant.jekyll import SiteConfig
from assistant.models import Section
from assistant.sources import GENERATORS


@dataclass
class Placement:
    """Where and how a published file appears: its URL path (not encoded, from `/`), the front matter
    as the generator reads it (defaults applied), and, when the generator decides them, title,
    breadcrumb and sections (anchors as the generator makes them)."""

    url_path: str
    front_matter: dict | None
    rendered: bool  # a rendered page (not a static file served as it is)
    title: str | None = None
    breadcrumb: tuple[str, ...] | None = None
    sections: list[Section] | None = None


@dataclass
class Skipped:
    reason: str


class SiteReader(Protocol):
    generator: str
    warnings: list[str]

    @property
    def base(self) -> str:
        """The site's URL + base path, without a trailing slash ("" when unknown)."""
        ...

    @property
    def url_from(self) -> str:
        """Where the URL came from: "" (none), "inferred", "site_url" or the site's file."""
        ...

    @property
    def settings_key(self) -> str:
        """Everything of the site's settings a page's URL, title or text depends on."""
        ...

    def markdown_root(self) -> str:
        """The folder (relative to the source, "" for all of it) whose markdown the generator reads."""
        ...

    def skip_reason(self, rel: str) -> str | None: ...

    def prepare(self, rel: str, data: bytes) -> bytes: ...

    def place(self, rel: str, front_matter: dict | None, sections: list[Section]) -> Placement | Skipped: ...


@dataclass
class JekyllSite:
    config: SiteConfig
    generator: str = "jekyll"
    warnings: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.config.base

    @property
    def url_from(self) -> str:
        return self.config.url_from

    @property
    def settings_key(self) -> str:
        c = self.config
        return repr((c.url, c.baseurl, c.permalink, c.collections_dir, sorted(c.collections.items()),
                     [dataclasses.astuple(d) for d in c.defaults]))

    def markdown_root(self) -> str:
        return ""

    def skip_reason(self, rel: str) -> str | None:
        return jekyll.skip_reason(rel, self.config)

    def prepare(self, rel: str, data: bytes) -> bytes:
        return data

    def place(self, rel: str, front_matter: dict | None, sections: list[Section]) -> Placement | Skipped:
        merged = jekyll.with_defaults(rel, front_matter, self.config)
        # Jekyll 4 asks a page's own front matter only (Hash#fetch skips the defaults), a document or
        # static file its defaults too.
        is_page = front_matter is not None and jekyll.collection_of(rel, self.config) is None
        if not jekyll.published_by_front_matter(front_matter if is_page else merged):
            return Skipped(jekyll.SKIP_UNPUBLISHED)
        front = merged if front_matter is not None else None
        return Placement(jekyll.page_url_path(rel, front, self.config), front, front_matter is not None)


def detect_generator(root: Path) -> str:
    return "mkdocs" if os.path.lexists(root / "mkdocs.yml") or os.path.lexists(root / "mkdocs.yaml") else "jekyll"


def open_site(root: Path, generator: str = "", site_url: str = "", inferred_url: str = "") -> SiteReader:
    """The reader of the site in `root`: `generator` as the source names it, else detected."""
    generator = generator or detect_generator(root)
    if generator == "mkdocs":
        from assistant.mkdocs import open_mkdocs_site

        return open_mkdocs_site(root, site_url, inferred_url)
    if generator != "jekyll":
        raise SourceError(f"{root}: unknown generator {generator!r}; it is one of {', '.join(GENERATORS)}")
    config = jekyll.load_site_config(root, site_url, inferred_url)
    return JekyllSite(config, warnings=list(config.warnings))


def settings_digest(reader: SiteReader) -> str:
    return hashlib.sha1(f"{reader.generator}\x00{reader.settings_key}".encode()).hexdigest()
