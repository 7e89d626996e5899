"""Getting a source's folder: a local folder as it is, a git repository cloned or pulled.

A git source is cloned (shallow) into the cache folder, or pulled when it is there already. When git
cannot fetch it (no internet), an earlier clone is read, or else the source's `snapshot` folder (a copy
shipped with the assistant), with a notice saying so. A source that cannot be read at all raises
SourceError naming it; the pipeline reports it, keeps its pages, and goes on with the rest.
Git only ever gets a checked URL (https, ssh or a local path; never one that git could read as an
option, nor a transport that runs commands such as `ext::`) and a checked branch name, after `--`.
Every file the ingest reads from a source goes through assistant/sites/source_files.py; what a source is
(sources.toml, the checks on its fields) is assistant/sites/sources.py.
It does not decide which sources an ingest reads (ingest/source_set.py does).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import SourceError
from assistant.sites.sources import RECORDED, SourceSpec, clone_folder, git_source_problem


@dataclass(frozen=True)
class Checkout:
    root: Path  # the folder to read
    notice: str = ""  # why it is not the up-to-date clone (an earlier clone, or the snapshot), for the report


# When a source can fall back, git gets this long: no internet must not hold up a start for minutes.
FALLBACK_TIMEOUT = 60.0


def checkout(spec: SourceSpec, cache_dir: Path, timeout: float = 120) -> Checkout:
    """The local folder of a source: its path, or an up-to-date clone of its git repository; when git
    cannot fetch, an earlier clone or the snapshot folder, with a notice (SourceError without either)."""
    if spec.path is not None:
        if not spec.path.exists():
            raise SourceError(_missing_folder(spec, spec.path))
        return Checkout(spec.path)
    if spec.git is None:
        raise SourceError(f"Source {spec.name!r} has no recorded folder or git URL (the index was built before "
                          f"it recorded its sources): name it once with `python -m ingest --add-source FOLDER_OR_GIT_URL "
                          f"--name {spec.name}`, or remove it with `--remove-source {spec.name}`; its pages are kept")
    problem = git_source_problem(spec.git, spec.branch)
    if problem:
        raise SourceError(f"Source {spec.name!r}: {problem} — check {spec.origin or 'corpus/sources.toml'}")
    target = clone_folder(cache_dir, spec.name)
    try:
        _fetch(spec, target, min(timeout, FALLBACK_TIMEOUT) if spec.snapshot else timeout)
        return Checkout(target)
    except SourceError as exc:
        reason = str(exc).removeprefix(f"Source {spec.name!r}: ")
        if (target / ".git").is_dir():
            fetched = time.strftime("%Y-%m-%d %H:%M", time.localtime((target / ".git").stat().st_mtime))
            return Checkout(target, f"{reason}; reading the clone fetched {fetched}")
        if spec.snapshot is None:
            raise SourceError(f"Source {spec.name!r}: {reason}; the index keeps its last version") from None
        if not spec.snapshot.is_dir():
            raise SourceError(f"Source {spec.name!r}: {reason}, and its snapshot folder {spec.snapshot} does not exist — "
                              f"check {spec.origin or 'corpus/sources.toml'}; the index keeps its last version") from None
        return Checkout(spec.snapshot, f"{reason}; reading the snapshot {spec.snapshot} instead")


def _fetch(spec: SourceSpec, target: Path, timeout: float) -> None:
    assert spec.git is not None
    if (target / ".git").is_dir():
        branch = spec.branch or "HEAD"
        _git(spec, ["-C", str(target), "fetch", "--depth", "1", "--", "origin", branch], timeout)
        _git(spec, ["-C", str(target), "reset", "--hard", "FETCH_HEAD"], timeout)
        (target / ".git").touch()  # its time is the time of the last fetch (the notice above says it)
        return
    if target.exists():  # what an interrupted clone left: git clones only into an empty folder
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = ["clone", "--depth", "1"]
    if spec.branch:
        command += ["--branch", spec.branch]
    _git(spec, [*command, "--", spec.git, str(target)], timeout)


def _missing_folder(spec: SourceSpec, folder: Path) -> str:
    if spec.origin == RECORDED:
        fix = (f"point the source at its folder with `python -m ingest --add-source FOLDER --name {spec.name}`, "
               f"or remove it with `--remove-source {spec.name}`")
    elif spec.origin.endswith(".toml"):
        fix = f"fix its 'path' in {spec.origin}"
    else:
        fix = "check the folder given"
    return f"Source {spec.name!r}: folder {folder} does not exist — {fix}; its pages are kept"


# Configuration on the command line (it wins over the user's and the system's) and in the environment
# (GIT_ALLOW_PROTOCOL, when set, wins over configuration): only these transports, whatever is set.
_GIT_PROTOCOLS = [
    "-c", "protocol.allow=never",
    "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=20",  # a stalled transfer ends, not hangs
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
        reason = re.sub(r"^fatal: (?:unable to access '[^']*': )?", "", reason)  # the URL is in the message already
        raise SourceError(f"Source {spec.name!r}: cannot fetch {spec.git} ({reason})")
