"""Acceptance: every chunk's URL is a file of the real Jekyll build and every anchor an id in it.

Builds each site with Debian's `jekyll` (theme line removed from a copy of _config.yml, as the theme
gem is not installed) and compares with what the ingest produces.
"""

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from assistant.embed import load_token_counter
from ingest.chunk import ChunkSizes, chunk_page
from ingest.jekyll import load_site_config, output_file
from ingest.site import scan_site
from tests.conftest import BORGERPC, PRODUKTMODNING, REPO

pytestmark = pytest.mark.jekyll
SITES = [PRODUKTMODNING, BORGERPC, REPO / "corpus" / "site"]


@pytest.fixture(scope="module", params=SITES, ids=lambda p: p.name)
def built(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: apt-get install jekyll ruby-jekyll-redirect-from (.ci/run does)")
    root: Path = request.param
    work = tmp_path_factory.mktemp(root.name)
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
    return root, work / "_site"


def chunks_of(root: Path):  # type: ignore[no-untyped-def]
    count = load_token_counter("all-MiniLM-L6-v2")
    scan = scan_site(root, root.name)
    return scan, [c for page in scan.pages for c in chunk_page(page, count, ChunkSizes())]


def site_file(url: str, root: Path, site: Path) -> Path:
    base = load_site_config(root).base
    assert url.startswith(base), url
    path = unquote(urlsplit(url[len(base):] or "/").path)
    return site / output_file(path)


def test_every_chunk_url_is_a_built_file_and_every_anchor_an_id(built):
    root, site = built
    _, chunks = chunks_of(root)
    ids_by_file: dict[Path, set[str]] = {}
    for chunk in chunks:
        file = site_file(chunk.url, root, site)
        assert file.is_file(), f"{chunk.path}: {chunk.url} is not in the build"
        if chunk.anchor:
            if file not in ids_by_file:
                html = file.read_text(encoding="utf-8")
                ids_by_file[file] = {unescape(i) for i in re.findall(r'\bid="([^"]+)"', html)}
            assert chunk.anchor in ids_by_file[file], f"{chunk.path}: no id {chunk.anchor!r} in {file.name}"


def test_every_published_page_has_a_chunk_and_nothing_unpublished_is_ingested(built):
    root, site = built
    _, chunks = chunks_of(root)
    chunk_files = {site_file(c.url, root, site) for c in chunks}
    published = set()
    for file in site.rglob("*"):
        if not file.is_file():
            continue
        if file.suffix == ".md":
            published.add(file)
        elif file.suffix == ".html" and "Redirecting&hellip;" not in file.read_text(encoding="utf-8"):
            published.add(file)
    assert chunk_files == published
