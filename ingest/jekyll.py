"""What a Jekyll site publishes, at which URL, and the heading ids kramdown gives.

Follows Jekyll's own rules (as GitHub Pages runs it): files with front matter are rendered pages
(`x.md` → `x.html`, `index.md` → its folder, or their `permalink`); markdown without front matter is
copied as a static file; dotfiles, `_`-folders and `exclude:` entries are not published.
It does not run Liquid or render HTML: parse.py extracts the text.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import yaml

# Jekyll's default `exclude:` list (Jekyll 4).
DEFAULT_EXCLUDE = (
    ".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
    "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/",
)


@dataclass
class SiteConfig:
    url: str = ""
    baseurl: str = ""
    permalink: str = "date"
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    include: tuple[str, ...] = (".htaccess",)
    warnings: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        """Site URL + baseurl, without a trailing slash."""
        return (self.url.rstrip("/") + "/" + self.baseurl.strip("/")).rstrip("/")


def load_site_config(root: Path, fallback_url: str = "") -> SiteConfig:
    """Read `_config.yml`; the host comes from `url`, else the CNAME file, else `fallback_url`."""
    config = SiteConfig()
    raw: dict = {}
    config_file = root / "_config.yml"
    if config_file.is_file():
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8-sig"))
            raw = loaded if isinstance(loaded, dict) else {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            config.warnings.append(f"{config_file}: invalid YAML ({_yaml_problem(exc)}); using defaults")
    url = str(raw.get("url") or "").strip()
    baseurl = str(raw.get("baseurl") or "").strip()
    if not url and (root / "CNAME").is_file():
        cname = (root / "CNAME").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        url = f"https://{cname[0].strip()}" if cname else ""
    if not url:
        url = fallback_url
    # A `url` that already carries a path (https://host/Repo/) works like url + baseurl.
    config.url = url.rstrip("/")
    config.baseurl = baseurl.strip("/")
    config.permalink = str(raw.get("permalink") or "date")
    config.exclude = DEFAULT_EXCLUDE + tuple(str(e) for e in raw.get("exclude") or ())
    config.include = tuple(str(e) for e in raw.get("include") or (".htaccess",))
    return config


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)


def is_published(relpath: str, config: SiteConfig) -> bool:
    """Whether Jekyll would publish this file (page or static) at all."""
    parts = PurePosixPath(relpath).parts
    for i, part in enumerate(parts):
        sub = "/".join(parts[: i + 1])
        if _matches(sub, part, config.include):
            continue
        if part.startswith((".", "_", "#")) or part.endswith("~"):
            return False
        if _matches(sub, part, config.exclude):
            return False
    return True


@lru_cache(maxsize=65_536)  # a site's folders are asked about once per file in them
def _matches(sub: str, part: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        p = pattern.strip("/")
        if sub == p or part == p or fnmatch.fnmatchcase(sub, p):
            return True
    return False


def page_url_path(relpath: str, front_matter: dict | None, config: SiteConfig) -> str:
    """The URL path (starting with `/`, not encoded) Jekyll serves a file at."""
    if front_matter is None:  # static file: copied as it is
        return "/" + relpath
    permalink = front_matter.get("permalink")
    if isinstance(permalink, str) and permalink.strip():
        path = permalink.strip()
        return path if path.startswith("/") else "/" + path
    pure = PurePosixPath(relpath)
    stem_dir = "" if str(pure.parent) == "." else str(pure.parent) + "/"
    if pure.stem == "index":
        return "/" + stem_dir
    if config.permalink == "pretty":
        return f"/{stem_dir}{pure.stem}/"
    return f"/{stem_dir}{pure.stem}.html"


def absolute_url(url_path: str, config: SiteConfig) -> str:
    return config.base + quote(url_path, safe="/:@!$&'()*+,;=-._~")


def output_file(url_path: str) -> str:
    """The file in `_site/` that serves a URL path: `/a/` → `a/index.html`."""
    path = url_path.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


# kramdown-parser-gfm: header ids are the raw header text, downcased, with every character that is
# not a word character, hyphen, space or tab removed, and spaces/tabs turned into hyphens.
_NON_WORD = re.compile(r"[^\w\- \t]", re.UNICODE)


def kramdown_anchor(raw_text: str, seen: Counter[str]) -> str:
    """The id kramdown (GFM input) gives a heading; `seen` counts ids already used on the page."""
    text = unicodedata.normalize("NFC", raw_text).lower()
    anchor = _NON_WORD.sub("", text).replace(" ", "-").replace("\t", "-")
    count = seen[anchor]
    seen[anchor] += 1
    return f"{anchor}-{count}" if count else anchor
