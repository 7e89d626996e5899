"""Acceptance: an MkDocs (Material) site read as `mkdocs build` publishes it: every chunk's URL is a
page of the real build, every anchor an id in it, and every built page has chunks."""

import re
import subprocess
import sys
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from assistant.embed.embedder import load_token_counter
from assistant.settings import Settings
from assistant.text import CODE_FENCE
from ingest.chunk import ChunkSizes, chunk_page
from ingest.site import scan_site

SITE = Path(__file__).parent / "sites" / "mkdocs_site"
BASE = "https://docs.example.dk/vejledning"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("mkdocs") / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(SITE / "mkdocs.yml"), "-d", str(out)],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return out


def built_file(site: Path, url: str) -> Path:
    assert url.startswith(BASE + "/"), url
    path = unquote(urlsplit(url).path)[len(urlsplit(BASE).path) + 1:]
    return site / (path + "index.html" if path.endswith("/") or not path else path)


def chunks():  # type: ignore[no-untyped-def]
    count = load_token_counter("all-MiniLM-L6-v2")
    return [c for page in scan_site(SITE, "mk").pages for c in chunk_page(page, count, ChunkSizes.of(Settings()))]


def test_every_chunk_url_is_a_built_page_and_every_anchor_an_id_in_it(built: Path):
    for chunk in chunks():
        page, _, fragment = chunk.url.partition("#")
        file = built_file(built, page)
        assert file.is_file(), f"{chunk.path}: {page} is not in the build"
        anchor = unquote(fragment.split(":~:", 1)[0])
        if anchor:
            assert anchor in {unescape(i) for i in re.findall(r'\bid="([^"]+)"', file.read_text("utf-8"))}, chunk.url


def test_every_built_page_has_chunks_and_nothing_excluded_is_ingested(built: Path):
    pages = {f for f in built.rglob("*.html") if "assets" not in f.parts and f.name != "404.html"
             and f.name != "sitemap.xml"}
    assert {built_file(built, c.url.partition("#")[0]) for c in chunks()} == pages


def test_titles_come_from_the_nav_then_the_first_heading():
    titles = {p.path: (p.title, p.breadcrumb) for p in scan_site(SITE, "mk").pages}
    assert titles["docs/vejledning/start.md"] == ("Kom godt i gang", ("Vejledning", "Kom godt i gang"))
    assert titles["docs/vejledning/faner.md"][0] == "Installation på styresystemer"


def test_admonitions_and_tabs_are_read_as_prose_with_their_titles_as_lead_lines():
    pages = {p.path: p for p in scan_site(SITE, "mk").pages}
    blocks = [b for s in pages["docs/index.md"].sections for b in s.blocks]
    assert blocks[blocks.index("Husk at gemme") + 1] == "Dine ændringer gemmes ikke automatisk."
    tabs = [b for s in pages["docs/vejledning/faner.md"].sections for b in s.blocks]
    assert "Kør installationsprogrammet og følg vejledningen." in tabs and "Windows" in tabs
    assert [b for b in tabs if b.startswith(CODE_FENCE)] == [f"{CODE_FENCE}\nsudo apt install eksempel\n{CODE_FENCE}"]
