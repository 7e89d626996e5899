"""What a Jekyll site publishes, at which URL, and the heading ids kramdown gives.

Follows Jekyll's own rules (as GitHub Pages runs it): files with front matter are rendered pages
(`x.md` → `x.html`, `index.md` → its folder, or their `permalink`); markdown without front matter is
copied as a static file; dotfiles, `_`-folders and `exclude:` entries are not published.
It does not run Liquid or render HTML: parse.py extracts the text.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

import yaml
from yaml.composer import ComposerError

from assistant.source_files import SourceFileError, read_source_file

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
    url_from: str = ""  # where `url` came from: "_config.yml", "CNAME", "site_url", "inferred" or "" (none)

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
            config.warnings.append(f"{root / '_config.yml'}: invalid YAML ({_yaml_problem(exc)}); using defaults")
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
    config.exclude = DEFAULT_EXCLUDE + tuple(str(e) for e in raw.get("exclude") or ())
    config.include = tuple(str(e) for e in raw.get("include") or (".htaccess",))
    return config


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


MAX_YAML_VALUES = 100_000  # after aliases are expanded: a "billion laughs" document has 10**9


def load_yaml(text: str) -> object:
    """yaml.safe_load for front matter and _config.yml, refusing (a YAMLError) a document whose
    aliases expand to more than MAX_YAML_VALUES values or refer to themselves (PyYAML shares the
    aliased objects, but str() of one expands it: it would never finish), or that nests too deeply
    for PyYAML's recursive parser (a RecursionError otherwise)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, MAX_YAML_VALUES) > MAX_YAML_VALUES:
            raise ComposerError(None, None, f"aliases expand to more than {MAX_YAML_VALUES:,} values", node.start_mark)
        return loader.construct_document(node)
    except RecursionError:
        raise ComposerError(None, None, "nested too deeply", None) from None
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values the node holds with every alias expanded, counted up to just past `limit`
    (without recursion: the graph may be deep)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _yaml_children(node)
        if children_done:
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > limit:
                return sizes[id(node)]
        elif id(node) in on_path:  # an alias inside what it names: endless when expanded
            return limit + 1
        elif id(node) not in sizes:
            on_path.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
    return sizes[id(root)]


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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


def published_by_front_matter(front_matter: dict | None) -> bool:
    """Whether the page's own `published:` lets Jekyll publish it: `published: false` (or an empty
    value, nil to Ruby) keeps it out of the site; a file without front matter is a static file."""
    return front_matter is None or front_matter.get("published", True) not in (False, None)


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
        # Jekyll collapses repeated slashes: `//host/x` is a path on this site, not another host.
        return re.sub(r"/{2,}", "/", "/" + permalink.strip())
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
