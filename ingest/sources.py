"""Where sites come from: `corpus/sources.toml`, local folders and git repositories.

A git source is cloned (shallow) into the cache folder, or pulled when it is there already. A source
that cannot be read raises SourceError naming it; the pipeline reports it and goes on with the rest.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

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
        path = (file.parent / entry["path"]).resolve() if entry.get("path") else None
        specs.append(
            SourceSpec(
                name=name.strip(),
                path=path,
                git=entry.get("git"),
                branch=entry.get("branch"),
                site_url=str(entry.get("site_url") or ""),
            )
        )
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourceError(f"Sources file {file}: source name(s) used twice: {', '.join(duplicates)}")
    return specs


def spec_from_argument(argument: str, name: str | None, site_url: str | None) -> SourceSpec:
    """`--source PATH|GIT_URL` from the command line."""
    if is_git_url(argument):
        default = re.sub(r"\.git$", "", argument.rstrip("/").rsplit("/", 1)[-1])
        return SourceSpec(name=name or default, git=argument, site_url=site_url or "")
    path = Path(argument).resolve()
    return SourceSpec(name=name or path.name, path=path, site_url=site_url or "")


def is_git_url(argument: str) -> bool:
    return argument.endswith(".git") or argument.startswith(("git@", "ssh://", "git://", "https://", "http://"))


def checkout(spec: SourceSpec, cache_dir: Path, timeout: float = 120) -> Path:
    """The local folder of a source: its path, or an up-to-date clone of its git repository."""
    if spec.path is not None:
        return spec.path
    assert spec.git is not None
    target = cache_dir / "git" / re.sub(r"[^\w.-]", "_", spec.name)
    if (target / ".git").is_dir():
        branch = spec.branch or "HEAD"
        _git(spec, ["git", "-C", str(target), "fetch", "--depth", "1", "origin", branch], timeout)
        _git(spec, ["git", "-C", str(target), "reset", "--hard", "FETCH_HEAD"], timeout)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        command = ["git", "clone", "--depth", "1"]
        if spec.branch:
            command += ["--branch", spec.branch]
        _git(spec, [*command, spec.git, str(target)], timeout)
    return target


def _git(spec: SourceSpec, command: list[str], timeout: float) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"Source {spec.name!r}: git failed for {spec.git}: {exc}") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise SourceError(f"Source {spec.name!r}: cannot fetch {spec.git} ({reason}); the index keeps its last version")
