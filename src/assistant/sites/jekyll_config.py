"""A Jekyll site's settings: `_config.yml` (url, baseurl, permalink style, exclude/include,
collections, front matter defaults) and CNAME, read as hostile files; and which URLs may be the base
of citation links.

It does not decide what a file publishes as, nor where (jekyll.py).
"""

from __future__ import annotations

import ipaddress
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from assistant.sites.safe_yaml import load_yaml, yaml_problem
from assistant.sites.source_files import SourceFileError, read_source_file

# Jekyll's default `exclude:` list (Jekyll 4).
DEFAULT_EXCLUDE = (
    ".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
    "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/",
)


# Jekyll's `permalink:` styles and the posts' URL template each stands for.
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}


@dataclass(frozen=True)
class Collection:
    label: str
    output: bool = False  # whether Jekyll writes its documents (posts: yes; others: when `output: true`)
    permalink: str = ""  # URL template of its documents


@dataclass(frozen=True)
class DefaultsRule:
    """One `defaults:` entry: front matter `values` for files under `path` (a prefix, or a glob) of `type`."""

    path: str
    type: str | None
    values: dict


@dataclass
class SiteConfig:
    url: str = ""
    baseurl: str = ""
    permalink: str = "date"
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    include: tuple[str, ...] = (".htaccess",)
    warnings: list[str] = field(default_factory=list)
    url_from: str = ""  # where `url` came from: "_config.yml", "CNAME", "site_url", "inferred" or "" (none)
    collections: dict[str, Collection] = field(default_factory=dict)  # by label; posts always
    collections_dir: str = ""  # where the `_label` folders are
    defaults: tuple[DefaultsRule, ...] = ()

    @property
    def base(self) -> str:
        """Site URL + baseurl, without a trailing slash."""
        return (self.url.rstrip("/") + "/" + self.baseurl.strip("/")).rstrip("/")


MAX_CONFIG_BYTES = 1024 * 1024
MAX_CNAME_BYTES = 1024


def load_site_config(root: Path, fallback_url: str = "", inferred_url: str = "") -> SiteConfig:
    """Read `_config.yml`; the host comes from `url`, else the CNAME file, else `fallback_url` (the
    source's site_url), else `inferred_url` (GitHub Pages' address for a git source's remote).

    Both files are read only when they are regular files inside the source folder (a symlink to
    /proc/self/environ is not); a URL that is not a plain http(s) site URL, or a CNAME that is not a
    hostname, is refused with a warning naming the file, and the next candidate is used.
    """
    config = SiteConfig()
    raw: dict = {}
    text = _read_config_file(root, "_config.yml", MAX_CONFIG_BYTES, config.warnings)
    if text is not None:
        try:
            loaded = load_yaml(text)
            raw = loaded if isinstance(loaded, dict) else {}
        except yaml.YAMLError as exc:
            config.warnings.append(f"{root / '_config.yml'}: invalid YAML ({yaml_problem(exc)}); using defaults")
    url = _checked_url(str(raw.get("url") or "").strip(), "_config.yml: url", config.warnings)
    config.url_from = "_config.yml" if url else ""
    baseurl = str(raw.get("baseurl") or "").strip()
    problem = _baseurl_problem(baseurl)
    if problem:
        config.warnings.append(f"_config.yml: baseurl {_shown(baseurl)} refused ({problem}); using none")
        baseurl = ""
    if not url:
        url = _cname_url(root, config.warnings)
        config.url_from = "CNAME" if url else ""
    if not url:
        url = _checked_url(fallback_url, "site_url of the source", config.warnings)
        config.url_from = "site_url" if url else ""
    if not url:
        url = _checked_url(inferred_url, "inferred site URL", config.warnings)
        config.url_from = "inferred" if url else ""
    # A `url` that already carries a path (https://host/Repo/) works like url + baseurl.
    config.url = url.rstrip("/")
    config.baseurl = baseurl.strip("/")
    config.permalink = str(raw.get("permalink") or "date")
    config.exclude = DEFAULT_EXCLUDE + _strings(raw.get("exclude"), "exclude", config.warnings)
    config.include = _strings(raw.get("include"), "include", config.warnings) or (".htaccess",)
    config.collections_dir = str(raw.get("collections_dir") or "").strip("/")
    config.collections = _collections(raw.get("collections"), config.permalink, config.warnings)
    config.defaults = _defaults(raw.get("defaults"), config.warnings)
    return config


def _strings(value: object, key: str, warnings: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        warnings.append(f"_config.yml: {key} is not a list; ignored")
        return ()
    return tuple(str(v) for v in value if v is not None)


def _collections(raw: object, style: str, warnings: list[str]) -> dict[str, Collection]:
    """`collections:` as a list of labels or a mapping label → {output, permalink}; posts always."""
    entries: dict[str, object] = {}
    if isinstance(raw, list):
        entries = {str(label): {} for label in raw}
    elif isinstance(raw, dict):
        entries = {str(label): meta for label, meta in raw.items()}
    elif raw is not None:
        warnings.append("_config.yml: collections is neither a list nor a mapping; ignored")
    posts = PERMALINK_STYLES.get(style, style)
    found = {"posts": Collection("posts", True, posts)}
    for label, meta in entries.items():
        meta = meta if isinstance(meta, dict) else {}
        if not re.fullmatch(r"[\w.-]+", label) or label in (".", ".."):
            warnings.append(f"_config.yml: collection {_shown(label)} is not a folder name; ignored")
            continue
        output = meta.get("output", label == "posts") is True
        permalink = meta.get("permalink")
        if label == "posts" and not isinstance(permalink, str):
            permalink = posts
        elif not isinstance(permalink, str) or not permalink.strip():
            permalink = _with_suffix("/:collection/:path", style)
        found[label] = Collection(label, output, PERMALINK_STYLES.get(permalink, permalink))
    return found


def _with_suffix(template: str, style: str) -> str:
    """Jekyll's Utils.add_permalink_suffix: the ending a permalink style gives a URL template."""
    if style == "pretty":
        return template + "/"
    if style in ("date", "ordinal", "none", "weekdate"):
        return template + ":output_ext"
    return template + ("/" if style.endswith("/") else "") + (":output_ext" if style.endswith(":output_ext") else "")


def _defaults(raw: object, warnings: list[str]) -> tuple[DefaultsRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        warnings.append("_config.yml: defaults is not a list; ignored")
        return ()
    rules = []
    for number, entry in enumerate(raw, 1):
        scope = entry.get("scope") if isinstance(entry, dict) else None
        values = entry.get("values") if isinstance(entry, dict) else None
        if not isinstance(values, dict) or (scope is not None and not isinstance(scope, dict)):
            warnings.append(f"_config.yml: defaults entry {number} has no scope and values mappings; ignored")
            continue
        scope = scope or {}
        kind = scope.get("type")
        rules.append(DefaultsRule(str(scope.get("path") or "").strip(), str(kind) if kind else None, values))
    return tuple(rules)


def _read_config_file(root: Path, name: str, max_bytes: int, warnings: list[str]) -> str | None:
    """The text of a site's config file; None when there is none or it is refused (with a warning)."""
    if not os.path.lexists(root / name):
        return None
    try:
        data = read_source_file(root, name, max_bytes)
    except SourceFileError as exc:
        warnings.append(f"{exc}; ignored")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(f"{name}: not UTF-8 text ({exc.reason}); ignored")
        return None


def _cname_url(root: Path, warnings: list[str]) -> str:
    text = _read_config_file(root, "CNAME", MAX_CNAME_BYTES, warnings)
    lines = (text or "").strip().splitlines()
    if not lines:
        return ""
    host = lines[0].strip()
    if not _is_hostname(host):
        warnings.append(f"CNAME: {_shown(host)} is not a hostname; refused")
        return ""
    return f"https://{host}"


def _checked_url(url: str, what: str, warnings: list[str]) -> str:
    """`url` if it is a plain http(s) site URL, else "" and a warning naming where it came from."""
    if not url:
        return ""
    problem = site_url_problem(url)
    if problem:
        warnings.append(f"{what} {_shown(url)} refused ({problem})")
        return ""
    return url


def site_url_problem(url: str) -> str | None:
    """Why `url` cannot be the base of citation links (None when it can): scheme http(s), a host, no
    user name or password, no query or fragment, no whitespace or control characters."""
    if any(_is_control_or_space(ch) for ch in url):
        return "whitespace or control characters"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http(s) URL"
    if "@" in parts.netloc:
        return "user name or password in the URL"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "a query or fragment"
    if "\\" in url:
        return "a backslash"
    try:
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return "an invalid port"
    host = parts.hostname or ""
    if not (_is_hostname(host) or _is_ip_address(host)):
        return "no valid host"
    return None


def _baseurl_problem(baseurl: str) -> str | None:
    if any(_is_control_or_space(ch) for ch in baseurl):
        return "whitespace or control characters"
    if any(ch in baseurl for ch in "\\?#"):
        return "a backslash, '?' or '#'"
    return None


_HOST_LABEL = re.compile(r"[^\W_](?:[^\W_]|-){0,62}(?<!-)")


def _is_hostname(host: str) -> bool:
    labels = host.removesuffix(".").split(".")
    return 0 < len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_control_or_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
