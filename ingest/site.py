"""Read one Jekyll source folder into Pages: only what the site publishes, at its published URL.

Bad files (binary, undecodable, too large, unreadable symlinks) are skipped with a warning naming
them; they never stop the run. Symlinks are not followed out of the source root, and folders reached
through symlinks are not entered (no loops).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import SourceError
from assistant.models import Page, sha1
from ingest.jekyll import absolute_url, is_published, load_site_config, page_url_path
from ingest.parse import ParseError, parse_markdown_file


@dataclass
class SiteScan:
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unpublished markdown, for the report


def markdown_files(root: Path, warnings: list[str]) -> list[str]:
    """Relative paths of the markdown files under root, not following symlinks out of it."""
    found: list[str] = []
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith((".md", ".markdown")):
                continue
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    warnings.append(f"{rel}: broken or looping symlink; skipped")
                    continue
                if not target.is_relative_to(real_root):
                    warnings.append(f"{rel}: symlink points outside the source folder; not followed")
                    continue
            if path.is_file():
                found.append(rel)
    return found


def scan_site(root: Path, source: str, site_url: str = "") -> SiteScan:
    if not root.exists():
        raise SourceError(f"Source {source!r}: folder {root} does not exist — check corpus/sources.toml")
    if not root.is_dir():
        raise SourceError(f"Source {source!r}: {root} is not a folder")
    config = load_site_config(root, site_url)
    scan = SiteScan(pages=[], warnings=list(config.warnings))
    files = markdown_files(root, scan.warnings)
    if not files:
        raise SourceError(f"Source {source!r}: no markdown files in {root}")
    for rel in files:
        if not is_published(rel, config):
            scan.skipped.append(rel)
            continue
        try:
            data = (root / rel).read_bytes()
            parsed = parse_markdown_file(data, rel)
        except (ParseError, OSError) as exc:
            scan.warnings.append(f"{source}: {exc}; skipped")
            continue
        scan.warnings.extend(f"{source}: {w}" for w in parsed.warnings)
        front = parsed.front_matter
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
                content_hash=sha1(f"{url}\x00{parsed.text}"),
                rendered=front is not None,
                sections=parsed.sections,
                links=parsed.links,
            )
        )
    return scan
