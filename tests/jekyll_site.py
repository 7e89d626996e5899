"""Build a site with Debian's jekyll and map chunk/citation URLs to files and ids of the build."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from assistant.sites.jekyll import load_site_config, output_file


def build_site(root: Path, work: Path) -> Path:
    """Copy the site, drop the theme line (the gem is not installed), build; returns `_site`."""
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: apt-get install jekyll ruby-jekyll-redirect-from (.ci/run does)")
    source = work / "src"
    shutil.copytree(root, source)
    config = source / "_config.yml"
    config.chmod(0o644)
    config.write_text(re.sub(r"(?m)^(remote_)?theme:.*$", "", config.read_text(encoding="utf-8")), encoding="utf-8")
    result = subprocess.run(
        ["jekyll", "build", "--quiet", "--source", str(source), "--destination", str(work / "_site")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    return work / "_site"


class BuiltSite:
    def __init__(self, root: Path, site: Path) -> None:
        self.root = root
        self.site = site
        self.base = load_site_config(root).base
        self._ids: dict[Path, set[str]] = {}

    def file_of(self, url: str) -> Path:
        assert url.startswith(self.base), url
        path = unquote(urlsplit(url[len(self.base):] or "/").path)
        return self.site / output_file(path)

    def ids_in(self, file: Path) -> set[str]:
        if file not in self._ids:
            html = file.read_text(encoding="utf-8")
            self._ids[file] = {unescape(i) for i in re.findall(r'\bid="([^"]+)"', html)}
        return self._ids[file]

    def check(self, url: str, where: str) -> None:
        """The URL is a file of the build and its #anchor (before any text fragment) an id in it."""
        page, _, fragment = url.partition("#")
        file = self.file_of(page)
        assert file.is_file(), f"{where}: {page} is not in the build"
        anchor = unquote(fragment.split(":~:", 1)[0])
        if anchor:
            assert anchor in self.ids_in(file), f"{where}: no id {anchor!r} in {file.name}"
