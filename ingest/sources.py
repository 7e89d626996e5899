"""Where sites come from: `corpus/sources.toml`, local folders and git repositories.

A git source is cloned (shallow) into the cache folder, or pulled when it is there already. A source
that cannot be read raises SourceError naming it; the pipeline reports it and goes on with the rest.
Git only ever gets a checked URL (https, ssh or a local path; never one that git could read as an
option, nor a transport that runs commands such as `ext::`) and a checked branch name, after `--`.
Every file the ingest reads from a source goes through read_source_file: a regular file inside the
source folder, of bounded size, or nothing.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from assistant.errors import SourceError


@dataclass(frozen=True)
class SourceSpec:
    name: str
    path: Path | None = None  # a local folder
    git: str | None = None  # or a git URL
    branch: str | None = None
    site_url: str = ""  # used when _config.yml and CNAME do not give the site's URL

    @property
    def location(self) -> str:
        return self.git or str(self.path)


def load_sources(file: Path) -> list[SourceSpec]:
    """Parse sources.toml; relative paths are relative to the file's folder."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"Sources file {file} does not exist — create it or set ASSISTANT_SOURCES_FILE") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"Sources file {file} is not valid TOML: {exc}") from None
    entries = data.get("source")
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"Sources file {file} lists no [[source]] entries")
    specs: list[SourceSpec] = []
    for number, entry in enumerate(entries, 1):
        where = f"{file}, source #{number}"
        if not isinstance(entry, dict):
            raise SourceError(f"{where}: expected a table with name and path or git")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SourceError(f"{where}: field 'name' is missing")
        if bool(entry.get("path")) == bool(entry.get("git")):
            raise SourceError(f"{where} ({name}): give exactly one of 'path' or 'git'")
        problem = git_source_problem(entry.get("git"), entry.get("branch"))
        if problem:
            raise SourceError(f"{where} ({name}): {problem}")
        path = (file.parent / entry["path"]).resolve() if entry.get("path") else None
        specs.append(
            SourceSpec(
                name=name.strip(),
                path=path,
                git=entry.get("git"),
                branch=entry.get("branch") or None,
                site_url=str(entry.get("site_url") or ""),
            )
        )
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourceError(f"Sources file {file}: source name(s) used twice: {', '.join(duplicates)}")
    return specs


def spec_from_argument(argument: str, name: str | None, site_url: str | None, branch: str | None = None) -> SourceSpec:
    """`--source PATH|GIT_URL` (and `--branch`) from the command line."""
    if is_git_url(argument):
        default = re.sub(r"\.git$", "", argument.rstrip("/").rsplit("/", 1)[-1])
        problem = git_source_problem(argument, branch)
        if problem:
            raise SourceError(f"Source {name or default!r} (--source {argument!r}): {problem}")
        return SourceSpec(name=name or default, git=argument, branch=branch or None, site_url=site_url or "")
    path = Path(argument).resolve()
    return SourceSpec(name=name or path.name, path=path, site_url=site_url or "")


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


def checkout(spec: SourceSpec, cache_dir: Path, timeout: float = 120) -> Path:
    """The local folder of a source: its path, or an up-to-date clone of its git repository."""
    if spec.path is not None:
        return spec.path
    assert spec.git is not None
    problem = git_source_problem(spec.git, spec.branch)
    if problem:
        raise SourceError(f"Source {spec.name!r}: {problem} — check corpus/sources.toml")
    # The name is the folder: never '.', '..' or a hidden folder.
    target = cache_dir / "git" / re.sub(r"^\.", "_", re.sub(r"[^\w.-]", "_", spec.name))
    if (target / ".git").is_dir():
        branch = spec.branch or "HEAD"
        _git(spec, ["-C", str(target), "fetch", "--depth", "1", "--", "origin", branch], timeout)
        _git(spec, ["-C", str(target), "reset", "--hard", "FETCH_HEAD"], timeout)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        command = ["clone", "--depth", "1"]
        if spec.branch:
            command += ["--branch", spec.branch]
        _git(spec, [*command, "--", spec.git, str(target)], timeout)
    return target


# Configuration on the command line (it wins over the user's and the system's) and in the environment
# (GIT_ALLOW_PROTOCOL, when set, wins over configuration): only these transports, whatever is set.
_GIT_PROTOCOLS = [
    "-c", "protocol.allow=never",
    "-c", "protocol.https.allow=always",
    "-c", "protocol.ssh.allow=always",
    "-c", "protocol.file.allow=always",
]


def _git(spec: SourceSpec, arguments: list[str], timeout: float) -> None:
    env = {**os.environ, "GIT_ALLOW_PROTOCOL": "https:ssh:file", "GIT_TERMINAL_PROMPT": "0"}
    command = ["git", *_GIT_PROTOCOLS, *arguments]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"Source {spec.name!r}: git failed for {spec.git}: {exc}") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise SourceError(f"Source {spec.name!r}: cannot fetch {spec.git} ({reason}); the index keeps its last version")


class SourceFileError(Exception):
    """A file in a source folder that is not read: outside the folder, not a regular file, too large."""


def read_source_file(root: Path, rel: str, max_bytes: int) -> bytes:
    """The bytes of `root/rel` (a `/`-separated relative path), only if it is a regular file inside
    root, symlinks followed, not in `.git`, of at most max_bytes; SourceFileError naming `rel` otherwise.

    Never blocks: a FIFO or device is refused from its stat, before it is opened, and the opened file
    is checked again (it could have been swapped in between). Costs a stat per folder level of `rel`
    (a re-ingest reads every file of the site).
    """
    real_root = os.path.realpath(root)
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise SourceFileError(f"{rel}: not a path inside the source folder")
    if ".git" in parts:
        raise SourceFileError(f"{rel}: is in .git")
    path = real_root
    try:
        for part in parts:
            path = os.path.join(path, part)
            status = os.lstat(path)
            if stat.S_ISLNK(status.st_mode):
                path = _followed(path, real_root, rel)
                status = os.stat(path)
    except FileNotFoundError:
        raise SourceFileError(f"{rel}: does not exist") from None
    except OSError as exc:
        raise SourceFileError(f"{rel}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(status.st_mode):
        raise SourceFileError(f"{rel}: not a regular file (a FIFO, device, socket or folder)")
    _check_size(rel, status.st_size, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            opened = os.fstat(file.fileno())
            if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (status.st_dev, status.st_ino):
                raise SourceFileError(f"{rel}: changed while it was being read")
            data = file.read(status.st_size + 1)  # (not max_bytes + 1: read() allocates what it is asked)
    except OSError as exc:
        raise SourceFileError(f"{rel}: cannot be read ({exc.strerror or exc})") from None
    if len(data) != status.st_size:
        raise SourceFileError(f"{rel}: changed while it was being read")
    return data


def _followed(link: str, real_root: str, rel: str) -> str:
    """Where a symlink in a source folder leads, if that is inside the folder and not in `.git`."""
    try:
        target = os.path.realpath(link, strict=True)
    except OSError:
        raise SourceFileError(f"{rel}: broken or looping symlink") from None
    if os.path.commonpath([target, real_root]) != real_root:
        raise SourceFileError(f"{rel}: symlink points outside the source folder")
    if ".git" in os.path.relpath(target, real_root).split(os.sep):
        raise SourceFileError(f"{rel}: symlink points into .git")
    return target


def _check_size(rel: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise SourceFileError(f"{rel}: {_amount(size)} is larger than {_amount(max_bytes)}")


def _amount(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
