"""Which generator publishes a source folder, and its reader: named by the source, else detected
(`mkdocs.yml` → MkDocs, else Jekyll).

The one place that knows every generator; site_reader.py holds what they share (`SiteReader`), so a
generator's module imports it without importing the others.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.errors import SourceError
from assistant.sites import jekyll
from assistant.sites.mkdocs import open_mkdocs_site
from assistant.sites.site_reader import JekyllSite, SiteReader
from assistant.sites.sources import GENERATORS


def detect_generator(root: Path) -> str:
    return "mkdocs" if os.path.lexists(root / "mkdocs.yml") or os.path.lexists(root / "mkdocs.yaml") else "jekyll"


def open_site(root: Path, generator: str = "", site_url: str = "", inferred_url: str = "") -> SiteReader:
    """The reader of the site in `root`: `generator` as the source names it, else detected."""
    generator = generator or detect_generator(root)
    if generator == "mkdocs":
        return open_mkdocs_site(root, site_url, inferred_url)
    if generator != "jekyll":
        raise SourceError(f"{root}: unknown generator {generator!r}; it is one of {', '.join(GENERATORS)}")
    config = jekyll.load_site_config(root, site_url, inferred_url)
    return JekyllSite(config, warnings=list(config.warnings))
