"""Which sites the assistant reads: `corpus/sources.toml`, the sources an index records, and the
checks every source passes before anything reads it (a git URL and branch git may be given, a site URL
that can be cited).

A source is a local folder or a git repository; fetching a git source is ingest's work
(ingest/sources.py), as is deciding which sources an ingest reads (ingest/source_set.py). This module
reads no source's files.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from assistant.errors import SourceError
from assistant.sites.jekyll_config import site_url_problem as http_url_problem

RECORDED = "the sources recorded in the index"  # SourceSpec.origin of a source read from the catalog


@dataclass(frozen=True)
class SourceSpec:
    name: str
    path: Path | None = None  # a local folder
    git: str | None = None  # or a git URL
    branch: str | None = None
    site_url: str = ""  # used when _config.yml and CNAME do not give the site's URL; "/x/": served by the app
    snapshot: Path | None = None  # a git source's folder to read when git cannot fetch it
    generator: str = ""  # "jekyll" or "mkdocs"; "" : detected from the folder (site_reader.py)
    origin: str = field(default="", compare=False)  # where it was named, for messages: a file, "the index"

    @property
    def location(self) -> str:
        return self.git or (str(self.path) if self.path is not None else "(no recorded location)")

    def to_record(self) -> dict[str, str]:
        """What the index records of the source (catalog `sources`): only the fields that are set."""
        record = {"name": self.name, "path": str(self.path) if self.path is not None else "", "git": self.git or "",
                  "branch": self.branch or "", "site_url": self.site_url,
                  "snapshot": str(self.snapshot) if self.snapshot is not None else "", "generator": self.generator}
        return {k: v for k, v in record.items() if v}

    @classmethod
    def from_record(cls, record: object, where: str) -> SourceSpec:
        """A source as the index recorded it; SourceError naming `where` when the record is damaged."""
        if not isinstance(record, dict) or not isinstance(record.get("name"), str) or not record["name"].strip():
            raise SourceError(f"{where}: a recorded source is damaged ({_shown(record)}); "
                              "name the sources again with `python -m ingest --sources FILE`")
        values = {k: record.get(k) or "" for k in ("path", "git", "branch", "site_url", "snapshot", "generator")}
        if not all(isinstance(v, str) for v in values.values()):
            raise SourceError(f"{where}: recorded source {record['name']!r} is damaged ({_shown(record)})")
        problem = git_source_problem(values["git"] or None, values["branch"] or None) or generator_problem(
            values["generator"])
        if problem:
            raise SourceError(f"{where}: recorded source {record['name']!r}: {problem}")
        return cls(name=record["name"], path=Path(values["path"]) if values["path"] else None,
                   git=values["git"] or None, branch=values["branch"] or None, site_url=values["site_url"],
                   snapshot=Path(values["snapshot"]) if values["snapshot"] else None, generator=values["generator"],
                   origin=RECORDED)


_FIELDS = {"name", "path", "git", "branch", "site_url", "snapshot", "generator"}
GENERATORS = ("jekyll", "mkdocs")  # as assistant/sites/factory.py reads them


def generator_problem(generator: str) -> str | None:
    """Why `generator` names no site generator this reads (None when it does, or is "": detected)."""
    if generator and generator not in GENERATORS:
        return (f"field 'generator' {_shown(generator)} is not one of {', '.join(map(repr, GENERATORS))} "
                "(or leave it out: it is detected from the folder)")
    return None


def load_sources(file: Path) -> list[SourceSpec]:
    """Parse sources.toml; relative paths are relative to the file's folder."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"Sources file {file} does not exist — create it or set ASSISTANT_SOURCES_FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"Sources file {file} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"Sources file {file} is not valid TOML: {exc}") from None
    entries = data.get("source")
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"Sources file {file} lists no [[source]] entries")
    specs = [_entry_spec(file, number, entry) for number, entry in enumerate(entries, 1)]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourceError(f"Sources file {file}: source name(s) used twice: {', '.join(duplicates)}")
    return specs


def _entry_spec(file: Path, number: int, entry: object) -> SourceSpec:
    where = f"{file}, source #{number}"
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: expected a table with name and path or git")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourceError(f"{where}: field 'name' is missing")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise SourceError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; "
                          f"a source has {', '.join(sorted(_FIELDS))}")
    for key in _FIELDS - {"name"}:
        if key in entry and not isinstance(entry[key], str):
            raise SourceError(f"{where}: field {key!r} must be a string, not {_shown(entry[key])}")
    if bool(entry.get("path")) == bool(entry.get("git")):
        raise SourceError(f"{where}: give exactly one of 'path' or 'git'")
    if entry.get("snapshot") and not entry.get("git"):
        raise SourceError(f"{where}: field 'snapshot' is the fallback of a 'git' source; a 'path' source needs none")
    problem = git_source_problem(entry.get("git"), entry.get("branch")) or generator_problem(entry.get("generator", ""))
    if problem:
        raise SourceError(f"{where}: {problem}")
    site_url = str(entry.get("site_url") or "").strip()
    problem = site_url_problem(site_url) if site_url else None
    if problem:
        raise SourceError(f"{where}: field 'site_url' {_shown(site_url)} {problem}")
    return SourceSpec(
        name=name.strip(),
        path=(file.parent / entry["path"]).resolve() if entry.get("path") else None,
        git=entry.get("git") or None,
        branch=entry.get("branch") or None,
        site_url=site_url,
        snapshot=(file.parent / entry["snapshot"]).resolve() if entry.get("snapshot") else None,
        generator=entry.get("generator", ""),
        origin=str(file),
    )


def site_url_problem(url: str) -> str | None:
    """Why a source's `site_url` cannot be used (None when it can): an http(s) site URL, or a path
    such as `/guide/` for a site the assistant serves itself."""
    if is_app_path(url):
        return None
    if url.startswith("/"):
        return "is neither an http(s) URL nor a plain path such as /guide/"
    problem = http_url_problem(url)
    return f"is refused ({problem}); give the published address, e.g. https://org.github.io/repo/" if problem else None


_APP_PATH = re.compile(r"/(?:[\w~-][\w.~-]*/)+")


def is_app_path(site_url: str) -> bool:
    """`/guide/`: a site the assistant serves itself under that path (web/guide.py)."""
    return bool(_APP_PATH.fullmatch(site_url))


_GITHUB = re.compile(r"(?:https://|ssh://git@|git@)github\.com[/:]([A-Za-z0-9-]+)/([\w.-]+?)(?:\.git)?/?", re.ASCII)


def github_pages_url(git: str | None) -> str | None:
    """Where GitHub Pages publishes a repository: https://ORG.github.io/REPO/, or https://ORG.github.io/
    for the ORG.github.io repository; None for a remote that is not on github.com."""
    match = _GITHUB.fullmatch(git or "")
    if not match:
        return None
    owner, repo = match.group(1).lower(), match.group(2)
    host = f"{owner}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def spec_from_argument(argument: str, name: str | None, site_url: str | None, branch: str | None = None) -> SourceSpec:
    """`--source PATH|GIT_URL` (and `--branch`, `--site-url`) from the command line."""
    site_url = (site_url or "").strip()
    if is_git_url(argument):
        default = re.sub(r"\.git$", "", argument.rstrip("/").rsplit("/", 1)[-1])
        problem = git_source_problem(argument, branch)
        if problem:
            raise SourceError(f"Source {name or default!r} (--source {argument!r}): {problem}")
        spec = SourceSpec(name=name or default, git=argument, branch=branch or None, site_url=site_url,
                          origin="the command line")
    else:
        path = Path(argument).resolve()
        spec = SourceSpec(name=name or path.name, path=path, site_url=site_url, origin="the command line")
    problem = site_url_problem(site_url) if site_url else None
    if problem:
        raise SourceError(f"Source {spec.name!r}: --site-url {_shown(site_url)} {problem}")
    return spec


def is_git_url(argument: str) -> bool:
    return argument.endswith(".git") or argument.startswith(("git@", "ssh://", "git://", "https://", "http://"))


# Transports git may use. Anything else (`ext::` runs a command, `fd::`, `http://`, `git://`) is refused
# here and, should a URL get past this check, by git itself (see _GIT_PROTOCOLS).
_URL_SCHEMES = {"https", "ssh", "git+ssh", "ssh+git", "file"}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"(?:[^@/:]+@)?([^/:]+):")  # git@host:org/repo.git (ssh); a colon before any slash


def git_source_problem(git: object, branch: object) -> str | None:
    """Why this git URL and branch must not be handed to git, naming the field; None when they are fine."""
    if git is not None:
        problem = _git_url_problem(git)
        if problem:
            return f"field 'git' {_shown(git)} {problem}"
    if branch is not None and branch != "":
        problem = _branch_problem(branch)
        if problem:
            return f"field 'branch' {_shown(branch)} is not a valid git branch name ({problem})"
    return None


def _git_url_problem(url: object) -> str | None:
    if not isinstance(url, str):
        return "is not a string"
    if url.startswith("-"):
        return "starts with '-' (git would read it as an option)"
    if "::" in url.split("/", 1)[0]:
        return "uses a git transport helper (`<transport>::`); use https://, ssh:// or a local path"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in url):  # a newline ends a credential request
        return "contains control characters or line breaks"
    scheme = _SCHEME.match(url)
    if scheme:
        parts = urlsplit(url)
        if parts.scheme.lower() not in _URL_SCHEMES:
            return f"uses the {parts.scheme}:// transport; use https://, ssh:// or a local path"
        if parts.netloc.rsplit("@", 1)[-1].startswith("-"):
            return "has a host starting with '-' (ssh would read it as an option)"
        return None
    scp = _SCP_LIKE.match(url)
    if scp and scp.group(1).startswith("-"):
        return "has a host starting with '-' (ssh would read it as an option)"
    return None


def _branch_problem(branch: object) -> str | None:
    """The rules of `git check-ref-format --branch`, without running git."""
    if not isinstance(branch, str):
        return "not a string"
    if branch.startswith("-"):
        return "starts with '-'"
    if any(ord(ch) < 32 or ord(ch) == 127 or ch in " ~^:?*[\\" for ch in branch):
        return "contains a space, a control character or one of ~^:?*[\\"
    if ".." in branch or "@{" in branch or "//" in branch or branch == "@":
        return "contains '..', '@{' or '//', or is '@'"
    if branch.startswith("/") or branch.endswith(("/", ".")):
        return "starts with '/' or ends with '/' or '.'"
    if any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/")):
        return "a part starts with '.' or ends with '.lock'"
    return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def clone_folder(cache_dir: Path, name: str) -> Path:
    """Where a git source's clone is kept: the name is the folder, never '.', '..' or a hidden one."""
    return cache_dir / "git" / re.sub(r"^\.", "_", re.sub(r"[^\w.-]", "_", name))
