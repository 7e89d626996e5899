"""bench/synth.py: the synthetic site is deterministic, valid for Jekyll, every page ingests under a
unique title and URL, and a re-ingest after `mutate` embeds only what the edited pages changed.

One small site (40 pages) and one index are built per module; tests that change them work on copies.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec
from bench.synth import generate, mutate
from ingest.pipeline import ingest
from ingest.report import IngestReport
from ingest.site import scan_site
from tests.conftest import BORGERPC, PRODUKTMODNING, SHARED, needs_shared
from tests.jekyll_site import BuiltSite, build_site

pytestmark = needs_shared  # the synthetic site is recombined from the shared corpora
PAGES = 30


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def index_settings(index_dir: Path) -> Settings:
    return Settings(index_dir=index_dir, cache_dir=index_dir.parent / "cache", embedding_cache_dir=None)


def text_hashes(index_dir: Path) -> set[str]:
    catalog = SqliteCatalog(index_dir)
    hashes = {chunk.text_hash for _, chunk in catalog.chunks()}
    catalog.close()
    return hashes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for corpus in (PRODUKTMODNING, BORGERPC):
        assert corpus.is_dir(), f"the shared corpus is missing: {corpus} (bench.synth reads ../shared/corpus)"
    root = tmp_path_factory.mktemp("synth") / "site"
    generate(root, PAGES, seed=7, shared=SHARED)
    return root


@pytest.fixture(scope="module")
def ingested(site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    index_dir = tmp_path_factory.mktemp("synth-index") / "index"
    return index_dir, ingest(index_settings(index_dir), [SourceSpec("synth", site)], progress=False)


def test_the_same_seed_gives_the_same_site_and_another_seed_another(site: Path, tmp_path: Path):
    generate(tmp_path / "again", PAGES, seed=7, shared=SHARED)
    generate(tmp_path / "other", PAGES, seed=8, shared=SHARED)
    assert files(tmp_path / "again") == files(site)
    assert files(tmp_path / "other") != files(site)


def test_every_page_is_ingested_without_warnings(ingested: tuple[Path, IngestReport]):
    _, report = ingested
    source = report.sources[0]
    assert source.error is None
    assert source.warnings == []
    assert len(source.added) == PAGES


def test_titles_and_urls_are_unique(site: Path):
    pages = scan_site(site, "synth").pages
    assert len({p.title for p in pages}) == len({p.url for p in pages}) == len(pages) == PAGES


def test_every_parent_is_a_page_and_pages_nest_three_deep(site: Path):
    pages = scan_site(site, "synth").pages
    titles = {p.title for p in pages}
    assert all(set(p.breadcrumb) <= titles for p in pages)
    assert max(len(p.breadcrumb) for p in pages) == 3


def test_no_two_chunks_share_an_embedded_text(ingested: tuple[Path, IngestReport]):
    _, report = ingested
    assert report.chunks_embedded == report.chunks_written > PAGES


def test_reingest_after_mutate_embeds_only_the_new_texts_of_the_edited_pages(
        site: Path, ingested: tuple[Path, IngestReport], tmp_path: Path):
    index_dir, _ = ingested
    shutil.copytree(site, tmp_path / "site")
    shutil.copytree(index_dir, tmp_path / "index")
    before = text_hashes(tmp_path / "index")
    edited = mutate(tmp_path / "site", fraction=0.1, seed=3)
    report = ingest(index_settings(tmp_path / "index"), [SourceSpec("synth", tmp_path / "site")], progress=False)
    source = report.sources[0]
    assert len(edited) == PAGES // 10
    assert sorted(source.changed) == edited
    assert len(source.unchanged) == PAGES - len(edited) and not source.added and not source.removed
    catalog = SqliteCatalog(tmp_path / "index")
    records = catalog.pages("synth")
    catalog.close()
    assert report.chunks_written == sum(len(records[("synth", p)].chunk_ids) for p in edited)
    new_texts = text_hashes(tmp_path / "index") - before
    assert report.chunks_embedded == len(new_texts)
    assert len(edited) <= report.chunks_embedded < report.chunks_written  # the rest came from the cache


@pytest.mark.jekyll
def test_every_chunk_url_is_a_file_of_the_jekyll_build_and_every_anchor_an_id(
        site: Path, ingested: tuple[Path, IngestReport], tmp_path: Path):
    built = BuiltSite(site, build_site(site, tmp_path))
    catalog = SqliteCatalog(ingested[0])
    chunks = catalog.chunks()
    catalog.close()
    for _, chunk in chunks:
        built.check(chunk.url, chunk.path)


def test_the_scale_benchmark_runs_end_to_end_without_the_model(tmp_path: Path):
    """bench.scale --fake-vectors on a small site: every stage prints, and the update check holds."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "bench.scale", "--pages", "30", "--fake-vectors", "--n", "5",
                             "--shared", str(SHARED)], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    for stage in ("full ingest", "re-ingest, no change", "... and again", "1% update", "queries after update"):
        assert stage in result.stdout, stage
    assert ": OK" in result.stdout and "MISMATCH" not in result.stdout
