"""What a site's generator publishes where: the one question ingest (ingest/site.py) and the sites
the app serves itself (web/guide.py) ask of a site.

A `SiteReader` (Jekyll here, MkDocs in mkdocs.py) says from a file's path whether it is published (or
why not), may rewrite its markdown before it is parsed (MkDocs' admonitions and tabs), and from its
front matter and parsed sections where it is published, under which title and anchors. Which
generator a folder has, detected or named by the source, and its reader are factory.py's. It does
not read nor parse the files themselves.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from assistant.models import Section
from assistant.sites import jekyll
from assistant.sites.jekyll import SiteConfig


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


def settings_digest(reader: SiteReader) -> str:
    return hashlib.sha1(f"{reader.generator}\x00{reader.settings_key}".encode()).hexdigest()
