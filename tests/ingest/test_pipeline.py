import subprocess
from pathlib import Path

import pytest
from filelock import FileLock

from assistant.errors import IndexMismatchError, IngestLockedError
from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.index.store import collection_name, open_store
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec, load_sources
from ingest.pipeline import ingest
from ingest.site import scan_site
from tests.conftest import PRODUKTMODNING, PRODUKTMODNING_OLD, needs_shared

PAGE = "---\ntitle: {t}\n---\n# {t}\n{body}\n"


def make_site(root: Path, pages: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text("url: https://lille.example.dk\n")
    for rel, body in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(PAGE.format(t=rel.removesuffix(".md"), body=body), encoding="utf-8")
    return root


def run(settings: Settings, root: Path | str, name: str = "lille", **kwargs):  # type: ignore[no-untyped-def]
    spec = SourceSpec(name=name, git=root) if isinstance(root, str) else SourceSpec(name=name, path=root)
    return ingest(settings, [spec], progress=False, **kwargs)


def store_of(settings: Settings):  # type: ignore[no-untyped-def]
    return open_store(settings, collection_name(settings.collection, settings.chunking_signature()))


def file_level_diff(old: Path, new: Path) -> dict[str, set[str]]:
    old_pages = {p.path for p in scan_site(old, "x").pages}
    new_pages = {p.path for p in scan_site(new, "x").pages}
    both = old_pages & new_pages
    changed = {p for p in both if (old / p).read_bytes() != (new / p).read_bytes()}
    return {"added": new_pages - old_pages, "removed": old_pages - new_pages, "changed": changed,
            "unchanged": both - changed}


def test_update_report_equals_the_file_level_diff_of_the_two_versions(index_old, copy_index):
    settings = Settings(index_dir=copy_index(index_old[0]))
    report = run(settings, PRODUKTMODNING, "os2produktmodning").sources[0]
    expected = file_level_diff(PRODUKTMODNING_OLD, PRODUKTMODNING)
    assert expected["added"] and expected["removed"] and expected["changed"]
    got = {k: set(getattr(report, k)) for k in expected}
    assert got == expected


def test_update_embeds_only_new_texts_of_changed_and_added_pages(index_old, copy_index):
    index_dir = copy_index(index_old[0])
    old_hashes = {c.text_hash for _, c in SqliteCatalog(index_dir).chunks()}
    report = run(Settings(index_dir=index_dir), PRODUKTMODNING, "os2produktmodning")
    touched = set(report.sources[0].added) | set(report.sources[0].changed)
    new_chunks = [c for _, c in SqliteCatalog(index_dir).chunks() if c.path in touched]
    assert report.chunks_written == len(new_chunks)
    assert report.chunks_embedded == len({c.text_hash for c in new_chunks} - old_hashes)
    assert 0 < report.chunks_embedded < len(SqliteCatalog(index_dir).chunks()) / 2


@needs_shared  # the pages deleted since the older state
def test_deleted_page_chunks_cannot_be_retrieved(index_current):
    settings = Settings(index_dir=index_current)
    removed = file_level_diff(PRODUKTMODNING_OLD, PRODUKTMODNING)["removed"]
    live = SqliteCatalog(index_current).chunks()
    assert not {c.path for _, c in live} & removed
    store = store_of(settings)
    assert store.ids() == {chunk_id for chunk_id, _ in live}
    for path in removed:
        assert store._collection.get(where={"path": path}, include=[])["ids"] == []


def test_reingest_without_change_embeds_and_writes_nothing(index_current, copy_index):
    index_dir = copy_index(index_current)
    version = SqliteCatalog(index_dir).version
    report = run(Settings(index_dir=index_dir), PRODUKTMODNING, "os2produktmodning")
    assert report.chunks_embedded == 0 and report.chunks_written == 0
    assert len(report.sources[0].unchanged) == len(scan_site(PRODUKTMODNING, "x").pages)
    assert SqliteCatalog(index_dir).version == version


def count_parses(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    import ingest.site

    parsed: list[str] = []
    real = ingest.site.parse_markdown_file

    def counting(data: bytes, rel: str):  # type: ignore[no-untyped-def]
        parsed.append(rel)
        return real(data, rel)

    monkeypatch.setattr(ingest.site, "parse_markdown_file", counting)
    return parsed


def test_reingest_without_change_parses_no_file(tmp_path, settings, monkeypatch):
    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen.", "b.md": "Haven lukker kl. 18."})
    run(settings, site)
    parsed = count_parses(monkeypatch)
    report = run(settings, site)
    assert parsed == [] and sorted(report.sources[0].unchanged) == ["a.md", "b.md"]
    (site / "a.md").write_text(PAGE.format(t="a", body="Affald hentes om fredagen."), encoding="utf-8")
    report = run(settings, site)
    assert parsed == ["a.md"] and report.sources[0].changed == ["a.md"]


def test_a_file_changed_without_changing_its_text_is_read_once_then_remembered(tmp_path, settings, monkeypatch):
    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen."})
    run(settings, site)
    version = SqliteCatalog(settings.index_dir).version
    (site / "a.md").write_text(PAGE.format(t="a", body="Affald hentes om mandagen."),
                               encoding="utf-8-sig")  # an editor added a byte-order mark: same text
    parsed = count_parses(monkeypatch)
    report = run(settings, site)
    assert parsed == ["a.md"] and report.sources[0].unchanged == ["a.md"] and report.chunks_written == 0
    assert SqliteCatalog(settings.index_dir).version == version  # nothing new to serve
    run(settings, site)
    assert parsed == ["a.md"]  # the new key was remembered: not read a second time


def test_an_index_from_before_file_keys_reads_every_file_once(tmp_path, settings, monkeypatch):
    import sqlite3

    site = make_site(tmp_path / "site", {"a.md": "Affald.", "b.md": "Haven."})
    run(settings, site)
    db = sqlite3.connect(Path(settings.index_dir) / SqliteCatalog.FILE)
    with db:  # the table as it was: no file_key column
        db.executescript("CREATE TABLE old AS SELECT source, path, url, title, content_hash FROM pages;"
                         "DROP TABLE pages; ALTER TABLE old RENAME TO pages;")
    db.close()
    version = SqliteCatalog(settings.index_dir).version
    parsed = count_parses(monkeypatch)
    assert len(run(settings, site).sources[0].unchanged) == 2 and sorted(parsed) == ["a.md", "b.md"]
    assert SqliteCatalog(settings.index_dir).version == version
    run(settings, site)
    assert sorted(parsed) == ["a.md", "b.md"]


def test_a_new_site_url_reads_every_file_again(tmp_path, settings, monkeypatch):
    site = make_site(tmp_path / "site", {"a.md": "Affald."})
    run(settings, site)
    (site / "_config.yml").write_text("url: https://ny.example.dk\n")
    parsed = count_parses(monkeypatch)
    report = run(settings, site)
    assert parsed == ["a.md"] and report.sources[0].changed == ["a.md"]
    assert next(c for _, c in SqliteCatalog(settings.index_dir).chunks()).url.startswith("https://ny.example.dk/")


def test_index_built_with_other_settings_is_refused_until_full(tmp_path, settings):
    site = make_site(tmp_path / "site", {"a.md": "Et afsnit om borgerservice."})
    run(settings, site)
    other = settings.model_copy(update={"chunk_target_tokens": 150})
    with pytest.raises(IndexMismatchError, match="chunk_target_tokens.*--full"):
        run(other, site)
    report = run(other, site, full=True)
    assert report.sources[0].changed == ["a.md"]
    assert SqliteCatalog(settings.index_dir).signature()["chunk_target_tokens"] == 150
    assert store_of(other).ids() == SqliteCatalog(settings.index_dir).chunk_ids()


def test_second_ingest_while_one_runs_stops_with_a_clear_message(tmp_path, settings):
    site = make_site(tmp_path / "site", {"a.md": "Tekst."})
    settings.index_dir.mkdir(parents=True)
    with FileLock(str(settings.index_dir / "ingest.lock")), pytest.raises(IngestLockedError, match="Another ingest"):
        run(settings, site)


def test_crash_before_commit_leaves_the_previous_index_whole(tmp_path, settings, monkeypatch):
    site = make_site(tmp_path / "site", {"a.md": "Gammel tekst om affald.", "b.md": "Anden side."})
    run(settings, site)
    before = SqliteCatalog(settings.index_dir).chunks()
    (site / "a.md").write_text(PAGE.format(t="a", body="Ny tekst om genbrug."), encoding="utf-8")

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(SqliteCatalog, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        run(settings, site)
    assert SqliteCatalog(settings.index_dir).chunks() == before
    monkeypatch.undo()
    report = run(settings, site)
    assert report.sources[0].changed == ["a.md"]
    texts = [c.text for _, c in SqliteCatalog(settings.index_dir).chunks()]
    assert "Ny tekst om genbrug." in texts and "Gammel tekst om affald." not in texts
    assert store_of(settings).ids() == SqliteCatalog(settings.index_dir).chunk_ids()


def test_renamed_page_reuses_cached_embeddings(tmp_path, settings):
    site = make_site(tmp_path / "site", {"a.md": "Tekst der flytter."})
    run(settings, site)
    (site / "a.md").rename(site / "b.md")
    (site / "b.md").write_text(PAGE.format(t="a", body="Tekst der flytter."), encoding="utf-8")
    report = run(settings, site)
    assert (report.sources[0].added, report.sources[0].removed) == (["b.md"], ["a.md"])
    assert report.chunks_embedded == 0 and report.chunks_cached == 1


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_git_source_is_cloned_then_pulled(tmp_path, settings):
    repo = make_site(tmp_path / "repo", {"a.md": "Første version."})
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    assert run(settings, f"file://{repo}").sources[0].added == ["a.md"]
    (repo / "a.md").write_text(PAGE.format(t="a", body="Anden version."), encoding="utf-8")
    git("commit", "-q", "-am", "v2", cwd=repo)
    assert run(settings, f"file://{repo}").sources[0].changed == ["a.md"]


def test_unreachable_git_source_is_reported_and_the_others_still_ingested(tmp_path, settings):
    site = make_site(tmp_path / "site", {"a.md": "Tekst."})
    specs = [SourceSpec(name="væk", git=f"file://{tmp_path}/nope.git"), SourceSpec(name="lille", path=site)]
    report = ingest(settings, specs, progress=False)
    assert report.failed and "væk" in report.sources[0].error
    assert report.sources[1].added == ["a.md"]


def test_source_removed_from_sources_file_is_pruned(tmp_path, settings):
    one = make_site(tmp_path / "one", {"a.md": "En."})
    two = make_site(tmp_path / "two", {"b.md": "To."})
    toml = tmp_path / "sources.toml"
    toml.write_text('[[source]]\nname = "one"\npath = "one"\n[[source]]\nname = "two"\npath = "two"\n')
    ingest(settings, load_sources(toml), prune_unlisted=True, progress=False)
    toml.write_text('[[source]]\nname = "one"\npath = "one"\n')
    report = ingest(settings, load_sources(toml), prune_unlisted=True, progress=False)
    assert [(s.name, s.removed) for s in report.sources] == [("one", []), ("two", ["b.md"])]
    assert SqliteCatalog(settings.index_dir).sources() == {"one": 1}
    assert two.exists() and one.exists()


def test_disk_full_during_ingest_is_a_clear_error_and_the_old_index_stays(tmp_path, settings, monkeypatch):
    import errno

    from assistant.errors import StoreError
    from assistant.serve.service import Assistant

    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen."})
    run(settings, site)
    (site / "b.md").write_text(PAGE.format(t="b", body="Ny side om genbrug."), encoding="utf-8")
    collection_type = type(store_of(settings)._collection)

    def no_space(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(collection_type, "upsert", no_space)
    with pytest.raises(StoreError, match="No space left on device"):
        run(settings, site)
    monkeypatch.undo()
    assert [c.path for _, c in SqliteCatalog(settings.index_dir).chunks()] == ["a.md"]
    assert "mandagen" in Assistant.open(settings).ask("Hvornår hentes affald?").text
    assert run(settings, site).sources[0].added == ["b.md"]


def test_full_catalog_disk_is_reported_without_a_traceback(tmp_path, settings, monkeypatch):
    import sqlite3

    from assistant.errors import StoreError

    site = make_site(tmp_path / "site", {"a.md": "Tekst."})

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SqliteCatalog, "_commit", full)
    with pytest.raises(StoreError, match="disk is full.*previous version of the index is unchanged"):
        run(settings, site)


def test_a_git_source_follows_the_live_repository_and_falls_back_to_its_snapshot_offline(tmp_path, settings):
    snapshot = make_site(tmp_path / "snapshot", {"a.md": "Første version."})
    repo = make_site(tmp_path / "repo", {"a.md": "Første version."})
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    gone = SourceSpec(name="docs", git=f"file://{tmp_path}/unreachable.git", branch="main", snapshot=snapshot)
    report = ingest(settings, [gone], progress=False)  # no internet on the first start: the snapshot
    assert not report.failed and report.sources[0].added == ["a.md"]
    assert "reading the snapshot" in report.sources[0].notices[0]
    assert any(line.startswith("docs: notice: cannot fetch") for line in report.lines())
    live = SourceSpec(name="docs", git=f"file://{repo}", branch="main", snapshot=snapshot)
    (repo / "a.md").write_text(PAGE.format(t="a", body="Anden version."), encoding="utf-8")
    git("commit", "-q", "-am", "v2", cwd=repo)
    report = ingest(settings, [live], progress=False)  # online: the clone, incrementally
    assert report.sources[0].changed == ["a.md"] and not report.sources[0].notices
    repo.rename(tmp_path / "offline")
    report = ingest(settings, [live], progress=False)  # offline again: the clone it has
    assert report.sources[0].unchanged == ["a.md"] and "reading the clone fetched" in report.sources[0].notices[0]


def offline(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """git's https goes to a closed port, as without internet (but at once, and also where there is some)."""
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_a_github_source_without_a_site_url_links_to_its_github_pages_address(tmp_path, settings, monkeypatch):
    offline(monkeypatch)
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "a.md").write_text(PAGE.format(t="a", body="Tekst."), encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    spec = SourceSpec(name="os2borgerpc-docs", git="https://github.com/OS2borgerPC/os2borgerpc-docs.git", snapshot=repo)
    report = ingest(settings, [spec], progress=False)
    [url] = {c.url.split("#")[0] for _, c in SqliteCatalog(settings.index_dir).chunks()}
    assert url == "https://os2borgerpc.github.io/os2borgerpc-docs/docs/a.html"
    assert any("inferred from its GitHub remote" in n for n in report.sources[0].notices)


def test_a_site_the_app_serves_itself_links_to_the_apps_public_address(tmp_path, settings):
    site = tmp_path / "guide"
    site.mkdir()
    (site / "a.md").write_text(PAGE.format(t="a", body="Tekst."), encoding="utf-8")
    served = settings.model_copy(update={"public_url": "https://assistent.kommune.dk/"})
    ingest(served, [SourceSpec(name="guide", path=site, site_url="/guide/")], progress=False)
    [url] = {c.url.split("#")[0] for _, c in SqliteCatalog(settings.index_dir).chunks()}
    assert url == "https://assistent.kommune.dk/guide/a.html"


def test_the_report_counts_each_sources_live_chunks_after_the_run(tmp_path, settings):
    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen.", "b.md": "Genbrug er åbent i weekenden."})
    assert run(settings, site).sources[0].chunks == 2
    (site / "c.md").write_text(PAGE.format(t="c", body="Storskrald bestilles på nettet."), encoding="utf-8")
    (site / "a.md").unlink()
    report = run(settings, site)  # one page added, one removed, one kept as it was
    assert report.chunks_written == 1
    assert report.sources[0].chunks == len(SqliteCatalog(settings.index_dir).chunks()) == 2
    assert run(settings, site).sources[0].chunks == 2  # nothing changed


def test_the_generator_named_in_the_sources_file_decides_how_the_folder_is_read(tmp_path):
    from assistant.index.factory import open_catalog
    from assistant.settings import Settings
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    (site / "mkdocs.yml").write_text("site_name: Test\nsite_url: https://docs.example.dk/\n", encoding="utf-8")
    (site / "docs" / "drift.md").write_text("---\ntitle: Drift\n---\n# Drift\n\nLogfilerne slettes efter 90 dage.\n",
                                            encoding="utf-8")
    urls = {}
    for generator in ("", "jekyll"):
        settings = Settings(index_dir=tmp_path / f"index-{generator or 'detected'}", cache_dir=tmp_path / "cache")
        ingest(settings, [SourceSpec(name="s", path=site, site_url="https://docs.example.dk/",
                                     generator=generator)], progress=False)
        catalog = open_catalog(settings, must_exist=True)
        try:
            urls[generator] = {c.url.split("#")[0] for _, c in catalog.chunks()}
        finally:
            catalog.close()
    assert urls[""] == {"https://docs.example.dk/drift/"}  # mkdocs.yml found: MkDocs' directory URLs
    assert urls["jekyll"] == {"https://docs.example.dk/docs/drift.html"}


def stored_as_catalog_says(settings: Settings) -> bool:
    live = dict(SqliteCatalog(settings.index_dir).chunks())
    stored = store_of(settings).stored(sorted(live))
    return stored == {i: (c.text, c.metadata()) for i, c in live.items()}


def test_an_update_writes_only_the_chunks_of_a_page_that_changed(tmp_path, settings, monkeypatch):
    """A sentence added to one section leaves the page's other chunks as they are stored: they are
    not written again (most of a 1% update's store time at 10,000 pages); what is stored is still
    what the catalog says, text and metadata."""
    sections = "\n\n".join(f"## Afsnit {i}\n\n" + " ".join(f"Sætning {j} om emne {i} og affald." for j in range(30))
                           for i in range(6))
    site = make_site(tmp_path / "site", {"a.md": sections, "b.md": "Anden side."})
    run(settings, site)
    before = SqliteCatalog(settings.index_dir).chunk_ids()
    (site / "a.md").write_text(PAGE.format(t="a", body=sections.replace("## Afsnit 3\n\n", "## Afsnit 3\n\nNyt. ")),
                               encoding="utf-8")
    written: list[str] = []
    add = type(store_of(settings)).add
    monkeypatch.setattr(type(store_of(settings)), "add",
                        lambda self, ids, *rest: (written.extend(ids), add(self, ids, *rest))[1])
    report = run(settings, site)
    after = SqliteCatalog(settings.index_dir).chunk_ids()
    assert report.sources[0].changed == ["a.md"] and report.chunks_written > len(written) > 0
    assert set(written) == after - before  # the new chunks only; the page's unchanged ones stay
    assert store_of(settings).ids() == after and stored_as_catalog_says(settings)


def test_a_chunk_whose_text_stays_but_whose_metadata_changes_is_written_again(tmp_path, settings):
    site = make_site(tmp_path / "site", {"a.md": "Tekst om affald."})
    run(settings, site)
    (site / "a.md").write_text("---\ntitle: a\ndate: 2026-03-01\n---\n# a\nTekst om affald.\n", encoding="utf-8")
    report = run(settings, site)
    assert report.sources[0].changed == ["a.md"]
    (chunk_id, chunk), = SqliteCatalog(settings.index_dir).chunks()
    assert chunk.date == "2026-03-01" and stored_as_catalog_says(settings)
