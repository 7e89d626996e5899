"""Every file the ingest reads from a source goes through read_source_file: a regular file inside the
source folder, of bounded size, or nothing (no symlink out of the folder, no FIFO or device).

It does not know where sources come from (sources.py) nor what their files mean (jekyll.py, parse.py).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


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
