"""Acceptance: every chunk's URL is a file of the real Jekyll build and every anchor an id in it.

Builds each site with Debian's `jekyll` (theme line removed from a copy of _config.yml, as the theme
gem is not installed) and compares with what the ingest produces.
"""

from pathlib import Path

import pytest

from assistant.embed.embedder import load_token_counter
from assistant.settings import Settings
from ingest.chunk import ChunkSizes, chunk_page
from ingest.site import scan_site
from tests.conftest import BORGERPC, PRODUKTMODNING, REPO, needs_shared
from tests.jekyll_site import BuiltSite, build_site

pytestmark = pytest.mark.jekyll
COLLECTIONS = Path(__file__).parent / "sites" / "jekyll_collections"  # collections, posts, defaults, drafts
SITES = [PRODUKTMODNING, pytest.param(BORGERPC, marks=needs_shared, id=BORGERPC.name), REPO / "corpus" / "site",
         COLLECTIONS]


@pytest.fixture(scope="module", params=SITES, ids=lambda p: p.name)
def built(request, tmp_path_factory) -> BuiltSite:  # type: ignore[no-untyped-def]
    root: Path = request.param
    return BuiltSite(root, build_site(root, tmp_path_factory.mktemp(root.name)))


def chunks_of(root: Path):  # type: ignore[no-untyped-def]
    count = load_token_counter("all-MiniLM-L6-v2")
    scan = scan_site(root, root.name)
    return [c for page in scan.pages for c in chunk_page(page, count, ChunkSizes.of(Settings()))]


def test_every_chunk_url_is_a_built_file_and_every_anchor_an_id(built: BuiltSite):
    for chunk in chunks_of(built.root):
        built.check(chunk.url, chunk.path)


def test_every_published_page_has_a_chunk_and_nothing_unpublished_is_ingested(built: BuiltSite):
    chunk_files = {built.file_of(c.url) for c in chunks_of(built.root)}
    published = set()
    for file in built.site.rglob("*"):
        if not file.is_file():
            continue
        if file.suffix == ".md":
            published.add(file)
        elif file.suffix == ".html" and "Redirecting&hellip;" not in file.read_text(encoding="utf-8"):
            published.add(file)
    assert chunk_files == published


def test_every_file_the_build_leaves_out_is_counted_by_reason():
    scan = scan_site(COLLECTIONS, "samlinger")
    assert {reason: sorted(files) for reason, files in scan.skipped.items()} == {
        "published: false": ["_team/gammel-bo.md", "docs/filer/liste.md", "docs/hemmelig.md"],
        "collection without output: true": ["_notes/n.md"],
        "dotfile, `_`-folder or backup name": ["_guides/_del.md"],
        "draft (_drafts)": ["_drafts/udkast.md"],
        "exclude: in _config.yml": ["kladder/k.md"],
        "post without a date in its file name": ["_posts/uden-dato.md"],
    }
    assert scan.notices == ["skipped 8 files: 3 published: false, 1 collection without output: true, 1 dotfile, "
                            "`_`-folder or backup name, 1 draft (_drafts), 1 exclude: in _config.yml, "
                            "1 post without a date in its file name"]
