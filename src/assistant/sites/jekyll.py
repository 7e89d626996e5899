"""What a Jekyll site publishes, at which URL, and the heading ids kramdown gives.

Follows Jekyll 4's own rules (as GitHub Pages runs it): files with front matter are rendered pages
(`x.md` → `x.html`, `index.md` → its folder, or their `permalink`, placeholders filled); markdown
without front matter is copied as a static file; documents of a collection with `output: true` (and
posts) are published at the collection's permalink; `defaults:` give front matter by path and type;
`published: false`, drafts, dotfiles, other `_`-folders and `exclude:` entries are not published, each
with its reason. It does not run Liquid or render HTML: parse.py extracts the text. The site's settings
are read by jekyll_config.py (re-exported here).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import PurePosixPath
from urllib.parse import quote

from assistant.sites.jekyll_config import DEFAULT_EXCLUDE as DEFAULT_EXCLUDE
from assistant.sites.jekyll_config import MAX_CONFIG_BYTES as MAX_CONFIG_BYTES
from assistant.sites.jekyll_config import Collection
from assistant.sites.jekyll_config import SiteConfig as SiteConfig
from assistant.sites.jekyll_config import load_site_config as load_site_config
from assistant.sites.jekyll_config import site_url_problem as site_url_problem
from assistant.sites.safe_yaml import load_yaml as load_yaml

# Why a file is not published: the keys of the ingest report's skip counts.
SKIP_HIDDEN = "dotfile, `_`-folder or backup name"
SKIP_EXCLUDED = "exclude: in _config.yml"
SKIP_DRAFT = "draft (_drafts)"
SKIP_NO_OUTPUT = "collection without output: true"
SKIP_UNPUBLISHED = "published: false"
SKIP_UNDATED_POST = "post without a date in its file name"
_DATED_NAME = re.compile(r"(\d{2,4})-(\d{1,2})-(\d{1,2})-([^/]*)$")


def collection_of(relpath: str, config: SiteConfig) -> tuple[Collection, str] | None:
    """The collection a file is a document of (its `_label` folder), and its path inside that folder."""
    prefix = config.collections_dir + "/" if config.collections_dir else ""
    if not relpath.startswith(prefix + "_"):
        return None
    folder, _, inner = relpath[len(prefix) + 1:].partition("/")
    collection = config.collections.get(folder)
    return (collection, inner) if collection is not None and inner else None


def skip_reason(relpath: str, config: SiteConfig) -> str | None:
    """Why Jekyll would not publish this file, from its path alone (None: it may be published; its front
    matter has the last word: unpublished_reason)."""
    prefix = config.collections_dir + "/" if config.collections_dir else ""
    if relpath.startswith(prefix + "_drafts/"):
        return SKIP_DRAFT
    found = collection_of(relpath, config)
    if found is None:
        return _path_skip_reason(PurePosixPath(relpath).parts, config)
    collection, inner = found
    # Inside a collection's folder the same filter runs on the path below it (the folder is not hidden).
    reason = _path_skip_reason(PurePosixPath(inner).parts, config, relpath)
    if reason is None and not collection.output:
        return SKIP_NO_OUTPUT
    if reason is None and collection.label == "posts" and not _DATED_NAME.search(inner.rsplit(".", 1)[0]):
        return SKIP_UNDATED_POST
    return reason


def _path_skip_reason(parts: tuple[str, ...], config: SiteConfig, full: str = "") -> str | None:
    full_parts = PurePosixPath(full).parts if full else parts
    offset = len(full_parts) - len(parts)
    for i, part in enumerate(parts):
        sub = "/".join(full_parts[: offset + i + 1])
        included = _included(part, config.include)
        if _excluded(sub, config.exclude) and not included:
            return SKIP_EXCLUDED
        if not included and (part.startswith((".", "_", "#", "~")) or part.endswith("~")):
            return SKIP_HIDDEN
    return None


def is_published(relpath: str, config: SiteConfig) -> bool:
    """Whether Jekyll would publish this file (page or static) at all, by its path."""
    return skip_reason(relpath, config) is None


@lru_cache(maxsize=65_536)  # a site's folders are asked about once per file in them
def _excluded(sub: str, patterns: tuple[str, ...]) -> bool:
    """Jekyll's EntryFilter#glob_include?: the path matches a pattern as a glob or starts with it."""
    for pattern in patterns:
        p = pattern.lstrip("/")
        if p and (sub == p.rstrip("/") or sub.startswith(p) or fnmatch.fnmatchcase(sub, p)):
            return True
    return False


@lru_cache(maxsize=65_536)
def _included(name: str, patterns: tuple[str, ...]) -> bool:
    return any(p.strip("/") and (name == p.strip("/") or fnmatch.fnmatchcase(name, p.strip("/"))) for p in patterns)


def with_defaults(relpath: str, front_matter: dict | None, config: SiteConfig) -> dict:
    """The file's front matter over the `defaults:` that apply to it (by path and type; the more
    specific scope wins, as Jekyll's FrontmatterDefaults#all); {} for a static file without defaults."""
    found = collection_of(relpath, config)
    kind = found[0].label if found else ("pages" if front_matter is not None else None)
    path = relpath
    if config.collections_dir and path.startswith(config.collections_dir + "/"):
        path = path[len(config.collections_dir) + 1:]
    merged: dict = {}
    old: tuple[str, str | None] | None = None
    for rule in config.defaults:
        if not _scope_applies(rule.path, rule.type, path, kind):
            continue
        if old is None or _has_precedence(old, (rule.path, rule.type)):
            merged = _deep_merge(merged, rule.values)
            old = (rule.path, rule.type)
        else:
            merged = _deep_merge(rule.values, merged)
    return _deep_merge(merged, front_matter or {})


def _scope_applies(scope_path: str, scope_type: str | None, path: str, kind: str | None) -> bool:
    if scope_type is not None and scope_type != kind:
        return False
    scope = scope_path.strip("/")
    if not scope:
        return True
    if "*" in scope:  # Jekyll globs the folder; a file under anything the glob matches is in scope
        parts = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[:i]), scope) for i in range(1, len(parts) + 1))
    return path.startswith(scope)


def _has_precedence(old: tuple[str, str | None], new: tuple[str, str | None]) -> bool:
    if len(new[0].strip("/")) != len(old[0].strip("/")):
        return len(new[0].strip("/")) >= len(old[0].strip("/"))
    return new[1] is not None or old[1] is None


def _deep_merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


def published_by_front_matter(front_matter: dict | None) -> bool:
    """Whether `published:` lets Jekyll publish the file: `published: false` (or an empty value, nil
    to Ruby) keeps it out of the site. Give it the front matter with its defaults."""
    return front_matter is None or front_matter.get("published", True) not in (False, None)


def page_url_path(relpath: str, front_matter: dict | None, config: SiteConfig) -> str:
    """The URL path (starting with `/`, not encoded) Jekyll serves a file at; `front_matter` with its
    defaults (None: a static file)."""
    pure = PurePosixPath(relpath)
    found = collection_of(relpath, config)
    if found is not None:
        collection, inner = found
        if front_matter is None:  # a static file of the collection: in the folder of its URL
            url = _fill(collection.permalink, _static_placeholders(collection, inner)).rstrip("/") or "/"
            return _sanitized(url.rsplit("/", 1)[0] + "/" + pure.name)
        permalink = front_matter.get("permalink")
        template = permalink if isinstance(permalink, str) and permalink.strip() else collection.permalink
        return _sanitized(_fill(template, _document_placeholders(collection, inner, front_matter)))
    if front_matter is None:  # static file: copied as it is
        return "/" + relpath
    stem_dir = "" if str(pure.parent) == "." else str(pure.parent)
    placeholders = {"path": stem_dir, "basename": pure.stem, "output_ext": ".html"}
    permalink = front_matter.get("permalink")
    if isinstance(permalink, str) and permalink.strip():
        return _sanitized(_fill(permalink.strip(), placeholders))
    if pure.stem == "index":
        return _sanitized(f"/{stem_dir}/")
    style = config.permalink
    suffix = "/" if style == "pretty" or (style not in PERMALINK_STYLES_BUILTIN and style.endswith("/")) else ".html"
    return _sanitized(f"/{stem_dir}/{pure.stem}{suffix}")


PERMALINK_STYLES_BUILTIN = ("date", "pretty", "ordinal", "weekdate", "none")


def _document_placeholders(collection: Collection, inner: str, front: dict) -> dict[str, str]:
    stem = PurePosixPath(inner).stem
    dated = _DATED_NAME.search(inner.rsplit(".", 1)[0])
    slug = str(front.get("slug") or (dated.group(4) if dated else stem))
    date = _date_of(front.get("date"), dated)
    categories = _categories(front)
    return {
        "collection": collection.label, "path": "/" + inner.rsplit(".", 1)[0].rstrip("."), "output_ext": ".html",
        "name": slugify(stem), "title": slugify(slug, pretty=True, cased=True), "slug": slugify(slug),
        "categories": "/".join(c.lower() for c in categories), "year": f"{date.year:04d}",
        "month": f"{date.month:02d}", "day": f"{date.day:02d}", "i_month": str(date.month), "i_day": str(date.day),
        "short_year": f"{date.year % 100:02d}", "y_day": f"{date.timetuple().tm_yday:03d}",
    }


def _static_placeholders(collection: Collection, inner: str) -> dict[str, str]:
    return {"collection": collection.label, "path": "/" + inner.rsplit(".", 1)[0].rstrip("."), "output_ext": "",
            "name": PurePosixPath(inner).name, "title": ""}


def _date_of(value: object, dated: re.Match[str] | None) -> dt.date:
    if isinstance(value, dt.datetime | dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    if dated:
        try:
            return dt.date(*(int(dated.group(i)) for i in (1, 2, 3)))
        except ValueError:
            pass
    return dt.date.today()  # Jekyll uses the time of the build


def _categories(front: dict) -> list[str]:
    found: list[str] = []
    for key in ("category", "categories"):
        value = front.get(key)
        items = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
        found.extend(str(v) for v in items if str(v) not in found)
    return found


def _fill(template: str, placeholders: dict[str, str]) -> str:
    return re.sub(r":([a-z_]+)", lambda m: placeholders.get(m.group(1), m.group(0)), template)


def _sanitized(url: str) -> str:
    """Jekyll's URL#sanitize_url: repeated slashes collapsed (`//host/x` is a path on this site, not
    another host), `./` runs dropped."""
    return re.sub(r"\.+/|\A/+", "/", re.sub(r"/{2,}", "/", "/" + url))


_SLUG_DEFAULT = re.compile(r"[\W_]+")
_SLUG_PRETTY = re.compile(r"(?:[^\w.~!$&'()+,;=@]|_)+")


def slugify(text: str, pretty: bool = False, cased: bool = False) -> str:
    """Jekyll's Utils.slugify in its default or pretty mode: runs of other characters become `-`."""
    slug = (_SLUG_PRETTY if pretty else _SLUG_DEFAULT).sub("-", text).strip("-")
    return slug if cased else slug.lower()


def absolute_url(url_path: str, config: SiteConfig) -> str:
    return config.base + quote(url_path, safe="/:@!$&'()*+,;=-._~")


def output_file(url_path: str) -> str:
    """The file in `_site/` that serves a URL path: `/a/` → `a/index.html`, `/a/b` → `a/b.html`."""
    path = url_path.lstrip("/")
    if path.endswith("/") or not path:
        return path + "index.html"
    return path if "." in path.rsplit("/", 1)[-1] else path + ".html"


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
