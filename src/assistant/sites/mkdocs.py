"""What an MkDocs site publishes, at which URL, under which title and anchors: `mkdocs.yml`
(`docs_dir`, `site_url`, `use_directory_urls`, `nav`, `exclude_docs`, `draft_docs`, the toc slugify),
read as a hostile file (bad YAML is a SourceError naming it, not a traceback).

Every markdown file under docs_dir is a page (front matter or not) unless excluded (MkDocs' own
`.*` and `/templates/`, exclude_docs, draft_docs, a README.md beside an index.md); `x.md` is served at
`x/` (or `x.html` without directory URLs); the title is the nav's, else front matter `title`, else the
first `#` heading, else the file name. Admonitions and tabs become prose (mkdocs_markdown.py). It does
not build the site, run plugins or macros, nor read the theme.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from assistant.errors import SourceError
from assistant.models import Heading, Section
from assistant.sites.jekyll_config import site_url_problem
from assistant.sites.mkdocs_markdown import flatten_blocks, toc_slug, unique_id
from assistant.sites.safe_yaml import load_yaml, yaml_problem
from assistant.sites.site_reader import Placement, Skipped
from assistant.sites.source_files import SourceFileError, read_source_file

MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_EXCLUDE = (".*", "/templates/")
SKIP_EXCLUDED = "exclude_docs in mkdocs.yml"
SKIP_DRAFT = "draft_docs in mkdocs.yml"
SKIP_DEFAULT = "dotfile or templates/ (MkDocs leaves them out)"
SKIP_README = "README.md beside an index.md"
SKIP_OUTSIDE = "outside docs_dir"


@dataclass
class MkDocsSite:
    docs_dir: str
    base: str = ""
    url_from: str = ""
    use_directory_urls: bool = True
    nav: dict[str, tuple[str | None, tuple[str, ...]]] = field(default_factory=dict)  # doc → (title, sections)
    exclude: list[tuple[bool, re.Pattern[str]]] = field(default_factory=list)
    drafts: list[tuple[bool, re.Pattern[str]]] = field(default_factory=list)
    unicode_slugs: bool = False
    indexes: set[str] = field(default_factory=set)  # folders (under docs_dir) with an index.md
    warnings: list[str] = field(default_factory=list)
    generator: str = "mkdocs"
    explicit_ids: dict[str, dict[int, str]] = field(default_factory=dict)  # rel → heading number → `{ #id }`

    @property
    def settings_key(self) -> str:
        return repr((self.docs_dir, self.base, self.use_directory_urls, sorted(self.nav.items()), self.unicode_slugs))

    def markdown_root(self) -> str:
        return self.docs_dir

    def skip_reason(self, rel: str) -> str | None:
        if not rel.startswith(self.docs_dir + "/"):
            return SKIP_OUTSIDE
        inner = rel[len(self.docs_dir) + 1:]
        if _matches(DEFAULT_RULES, inner):
            return SKIP_DEFAULT
        if _matches(self.exclude, inner):
            return SKIP_EXCLUDED
        if _matches(self.drafts, inner):
            return SKIP_DRAFT
        folder, name = posixpath.split(inner)
        if name.rsplit(".", 1)[0] == "README" and folder in self.indexes:
            return SKIP_README
        return None

    def prepare(self, rel: str, data: bytes) -> bytes:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data  # the parser says what is wrong with it
        flat, ids = flatten_blocks(text)
        self.explicit_ids[rel] = ids
        return flat.encode("utf-8")

    def place(self, rel: str, front_matter: dict | None, sections: list[Section]) -> Placement | Skipped:
        inner = rel[len(self.docs_dir) + 1:]
        nav_title, trail = self.nav.get(inner, (None, ()))
        sections = self._anchored(sections, self.explicit_ids.pop(rel, {}))
        first = next((s.heading.text for s in sections if s.heading and s.heading.level == 1), None)
        front_title = str((front_matter or {}).get("title") or "").strip()
        title = nav_title or front_title or first or _title_from_name(inner)
        return Placement(self.url_path(inner), front_matter, True, title, (*trail, title), sections)

    def url_path(self, inner: str) -> str:
        """`x.md` → `/x/` (`/x.html` without directory URLs); index.md and README.md → their folder."""
        folder, name = posixpath.split(inner.rsplit(".", 1)[0])
        if name in ("index", "README"):
            dest = posixpath.join(folder, "index.html")
        elif self.use_directory_urls:
            dest = posixpath.join(folder, name, "index.html")
        else:
            dest = posixpath.join(folder, name + ".html")
        if self.use_directory_urls and dest.endswith("index.html"):
            return "/" + dest[: -len("index.html")]
        return "/" + dest

    def _anchored(self, sections: list[Section], explicit: dict[int, str]) -> list[Section]:
        """The sections with the ids Python-Markdown's toc gives their headings."""
        used: set[str] = set(explicit.values())
        renamed: dict[int, Heading] = {}
        for number, section in enumerate(s for s in sections if s.heading):
            heading = section.heading
            assert heading is not None
            anchor = explicit.get(number) or unique_id(toc_slug(heading.text, self.unicode_slugs), used)
            renamed[id(heading)] = replace(heading, anchor=anchor)
        return [replace(s, heading=renamed.get(id(s.heading), s.heading),
                        path=tuple(renamed.get(id(h), h) for h in s.path)) for s in sections]


def open_mkdocs_site(root: Path, fallback_url: str = "", inferred_url: str = "") -> MkDocsSite:
    name = "mkdocs.yml" if os.path.lexists(root / "mkdocs.yml") else "mkdocs.yaml"
    try:
        text = read_source_file(root, name, MAX_CONFIG_BYTES).decode("utf-8-sig")
        raw = load_yaml(text, unknown_tags=True)
    except SourceFileError as exc:
        raise SourceError(f"{root / name}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{root / name}: not UTF-8 text ({exc.reason})") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"{root / name}: invalid YAML ({yaml_problem(exc)}); fix it as `mkdocs build` would") from None
    if not isinstance(raw, dict):
        raise SourceError(f"{root / name}: not a mapping of settings")
    docs_dir = str(raw.get("docs_dir") or "docs").strip().strip("/")
    if not docs_dir or any(p in ("", ".", "..") for p in docs_dir.split("/")) or not (root / docs_dir).is_dir():
        raise SourceError(f"{root / name}: docs_dir {docs_dir!r} is not a folder inside the source")
    site = MkDocsSite(docs_dir=docs_dir, use_directory_urls=raw.get("use_directory_urls", True) is not False)
    for url, where in ((str(raw.get("site_url") or "").strip(), name), (fallback_url, "site_url"),
                       (inferred_url, "inferred")):
        problem = site_url_problem(url) if url else "none"
        if url and problem:
            site.warnings.append(f"{where}: site_url {url!r} refused ({problem})")
        if not problem:
            site.base, site.url_from = url.rstrip("/"), where
            break
    site.nav = _nav(raw.get("nav"), ())
    site.exclude = _gitignore(raw.get("exclude_docs"), "exclude_docs", site.warnings)
    site.drafts = _gitignore(raw.get("draft_docs"), "draft_docs", site.warnings)
    site.unicode_slugs = _unicode_slugs(raw.get("markdown_extensions"))
    docs = root / docs_dir
    folders = (path.relative_to(docs).parent.as_posix() for path in docs.glob("**/index.md"))
    site.indexes = {"" if folder == "." else folder for folder in folders}
    return site


def _nav(items: object, trail: tuple[str, ...]) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """doc path (under docs_dir) → (its nav title or None, the nav sections above it)."""
    found: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            found.setdefault(item.strip("/"), (None, trail))
        elif isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str) and not re.match(r"[a-z]+:", value):
                    found.setdefault(value.strip("/"), (str(title), trail))
                elif isinstance(value, list):
                    found.update({k: v for k, v in _nav(value, (*trail, str(title))).items() if k not in found})
    return found


def _gitignore(raw: object, key: str, warnings: list[str]) -> list[tuple[bool, re.Pattern[str]]]:
    """gitignore-style lines (as MkDocs reads exclude_docs) → (negated, regex) rules; the last match wins."""
    if raw is None:
        return []
    if not isinstance(raw, str):
        warnings.append(f"mkdocs.yml: {key} is not a block of lines; ignored")
        return []
    rules = []
    for line in raw.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        folder_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        body = _glob_regex(line.lstrip("/"))
        rules.append((negated, re.compile(("^" if anchored else "^(?:.*/)?") + body + ("/.*$" if folder_only else "(?:/.*)?$"))))
    return rules


def _glob_regex(glob: str) -> str:
    out = []
    for token in re.split(r"(\*\*/|/\*\*|\*|\?)", glob):
        out.append({"**/": "(?:.*/)?", "/**": "(?:/.*)?", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token)))
    return "".join(out)


DEFAULT_RULES = _gitignore("\n".join(DEFAULT_EXCLUDE), "", [])


def _matches(rules: list[tuple[bool, re.Pattern[str]]], path: str) -> bool:
    matched = False
    for negated, pattern in rules:
        if pattern.match(path):
            matched = not negated
    return matched


def _unicode_slugs(extensions: object) -> bool:
    """Whether mkdocs.yml's toc extension uses a Unicode slugify (pymdownx.slugs.uslugify, slugify_unicode)."""
    items = extensions if isinstance(extensions, list) else [extensions] if isinstance(extensions, dict) else []
    for item in items:
        config = item.get("toc") if isinstance(item, dict) else None
        slug = str(config.get("slugify") or "") if isinstance(config, dict) else ""
        if any(name in slug for name in ("uslugify", "slugify_unicode", "pymdownx.slugs.slugify")):
            return True
    return False


def _title_from_name(inner: str) -> str:
    folder, name = posixpath.split(inner.rsplit(".", 1)[0])
    if name in ("index", "README"):
        name = posixpath.basename(folder) or "Home"
    return name.replace("-", " ").replace("_", " ").strip().capitalize() or "Home"
