"""The index records its sources; every re-ingest reads those; only explicit acts change the list.
Each test runs against the embedded store (SQLite catalog) and a real `chroma run` server."""

import itertools
import json
from pathlib import Path

import pytest

from assistant.errors import SourceError, StoreError
from assistant.index.catalog_server import ServerCatalog
from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.index.factory import open_catalog
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec
from ingest.pipeline import ingest, ingest_sources_file, reingest
from tests.ingest.test_pipeline import make_site

_collections = itertools.count()


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    """Settings whose default sources file lists two sites the index was *not* built from."""
    other = make_site(tmp_path / "other", {"x.md": "Andet site."})
    guide = make_site(tmp_path / "guide", {"y.md": "Vejledningen."})
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "guide"\npath = "{guide}"\n[[source]]\nname = "other"\npath = "{other}"\n')
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", sources_file=sources)
    if request.param == "server":
        port = request.getfixturevalue("chroma_server")
        settings = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port,
                                               "collection": f"s{next(_collections)}"})
    return settings


def borgerpc(tmp_path: Path) -> SourceSpec:
    site = make_site(tmp_path / "borgerpc", {"drift.md": "Cron-jobs kører om natten.", "om.md": "Om OS2borgerPC."})
    return SourceSpec(name="os2borgerpc-docs", path=site)


def recorded(settings: Settings) -> list[str]:
    catalog = open_catalog(settings)
    return [r["name"] for r in catalog.recorded_sources() or []]


def test_a_reingest_reads_the_sources_the_index_was_built_from_not_the_sources_file(store_settings, tmp_path):
    ingest(store_settings, [borgerpc(tmp_path)], progress=False)  # python -m ingest --source … --index X
    report = reingest(store_settings)  # the admin button, the webhook, polling, python -m ingest --index X
    assert [(s.name, len(s.unchanged), s.removed) for s in report.sources] == [("os2borgerpc-docs", 2, [])]
    assert open_catalog(store_settings).sources() == {"os2borgerpc-docs": 2}
    assert report.source_changes.lines() == []
    assert any(f"{store_settings.sources_file} differs" in n and "it is not read" in n for n in report.notices)


def test_the_first_ingest_of_a_new_index_reads_the_sources_file_and_records_it(store_settings):
    report = reingest(store_settings)
    assert open_catalog(store_settings).sources() == {"guide": 1, "other": 1}
    assert recorded(store_settings) == ["guide", "other"]
    assert [line.split(" (")[0] for line in report.lines()[:2]] == ["source added to the index: guide",
                                                                    "source added to the index: other"]


def test_adding_and_removing_sources_is_explicit_and_reported(store_settings, tmp_path):
    ingest(store_settings, [borgerpc(tmp_path)], progress=False)
    extra = make_site(tmp_path / "extra", {"z.md": "Ekstra."})
    report = ingest(store_settings, None, add=[SourceSpec(name="extra", path=extra)], progress=False)
    assert report.source_changes.added == [f"extra ({extra})"]
    assert recorded(store_settings) == ["os2borgerpc-docs", "extra"]
    report = ingest(store_settings, None, remove=["os2borgerpc-docs"], progress=False)
    assert report.source_changes.removed == [f"os2borgerpc-docs ({tmp_path / 'borgerpc'})"]
    assert "source removed from the index (its pages with it): os2borgerpc-docs" in report.lines()[0]
    assert open_catalog(store_settings).sources() == {"extra": 1} and recorded(store_settings) == ["extra"]
    assert reingest(store_settings).source_changes.lines() == []


def test_removing_a_source_the_index_does_not_have_is_refused_naming_what_it_has(store_settings, tmp_path):
    ingest(store_settings, [borgerpc(tmp_path)], progress=False)
    with pytest.raises(SourceError, match=r"--remove-source nope: the index has no such source \(it has os2borgerpc-docs\)"):
        ingest(store_settings, None, remove=["nope"], progress=False)
    assert open_catalog(store_settings).sources() == {"os2borgerpc-docs": 2}


def test_naming_the_sources_file_makes_it_the_list(store_settings, tmp_path):
    ingest(store_settings, [borgerpc(tmp_path)], progress=False)
    report = ingest_sources_file(store_settings)
    assert sorted(report.source_changes.added) == sorted([f"guide ({tmp_path / 'guide'})", f"other ({tmp_path / 'other'})"])
    assert report.source_changes.removed == [f"os2borgerpc-docs ({tmp_path / 'borgerpc'})"]
    assert open_catalog(store_settings).sources() == {"guide": 1, "other": 1}
    assert not any("differs" in n for n in reingest(store_settings).notices)


def test_ingesting_one_source_adds_it_and_keeps_the_others(store_settings, tmp_path):
    ingest(store_settings, [borgerpc(tmp_path)], progress=False)
    extra = make_site(tmp_path / "extra", {"z.md": "Ekstra."})
    report = ingest(store_settings, [SourceSpec(name="extra", path=extra)], progress=False)  # --source
    assert [s.name for s in report.sources] == ["extra"] and report.source_changes.added == [f"extra ({extra})"]
    assert recorded(store_settings) == ["os2borgerpc-docs", "extra"]
    assert {s.name for s in reingest(store_settings).sources} == {"os2borgerpc-docs", "extra"}


def test_a_recorded_source_whose_folder_is_gone_fails_clearly_and_keeps_its_pages(store_settings, tmp_path):
    spec = borgerpc(tmp_path)
    ingest(store_settings, [spec], progress=False)
    assert spec.path is not None
    spec.path.rename(tmp_path / "moved")
    report = reingest(store_settings)
    assert report.failed
    error = report.sources[0].error or ""
    assert f"folder {spec.path} does not exist" in error and "--add-source FOLDER --name os2borgerpc-docs" in error
    assert open_catalog(store_settings).sources() == {"os2borgerpc-docs": 2}
    assert recorded(store_settings) == ["os2borgerpc-docs"]
    moved = SourceSpec(name="os2borgerpc-docs", path=tmp_path / "moved")
    report = ingest(store_settings, None, add=[moved], progress=False)
    assert report.source_changes.changed == [f"os2borgerpc-docs (now {tmp_path / 'moved'})"] and not report.failed
    assert len(report.sources[0].unchanged) == 2


def test_a_dry_run_records_nothing(store_settings, tmp_path):
    ingest(store_settings, [borgerpc(tmp_path)], progress=False)
    report = ingest(store_settings, None, remove=["os2borgerpc-docs"], dry_run=True, progress=False)
    assert report.source_changes.removed and recorded(store_settings) == ["os2borgerpc-docs"]
    assert open_catalog(store_settings).sources() == {"os2borgerpc-docs": 2}


def forget_sources(settings: Settings) -> None:
    """Make the index look like one built before sources were recorded."""
    catalog = open_catalog(settings)
    if isinstance(catalog, ServerCatalog):
        head = catalog._head()
        head.pop("sources")
        catalog.collection.delete(ids=["head"])  # (an upsert keeps the metadata keys it is not given)
        catalog.collection.add(ids=["head"], embeddings=[[0.0]], metadatas=[head], documents=["head"])
    else:
        with catalog.db:
            catalog.db.execute("DELETE FROM meta WHERE key = 'sources'")
    assert open_catalog(settings).recorded_sources() is None


def test_an_older_index_built_from_the_sources_file_keeps_following_it(store_settings):
    ingest_sources_file(store_settings)
    forget_sources(store_settings)
    report = reingest(store_settings)
    assert not report.failed and {s.name for s in report.sources} == {"guide", "other"}
    assert recorded(store_settings) == ["guide", "other"]


def test_an_older_index_keeps_a_source_the_sources_file_lacks_and_says_how_to_name_it(store_settings, tmp_path):
    spec = borgerpc(tmp_path)
    ingest(store_settings, [spec], progress=False)
    forget_sources(store_settings)
    report = reingest(store_settings)
    assert report.failed and "no recorded folder or git URL" in (report.sources[0].error or "")
    assert "--add-source FOLDER_OR_GIT_URL --name os2borgerpc-docs" in (report.sources[0].error or "")
    assert open_catalog(store_settings).sources() == {"os2borgerpc-docs": 2}
    report = ingest(store_settings, None, add=[spec], progress=False)
    assert not report.failed and len(report.sources[0].unchanged) == 2
    assert recorded(store_settings) == ["os2borgerpc-docs"]


def test_a_damaged_list_of_sources_is_refused_naming_the_catalog(tmp_path):
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    ingest(settings, [borgerpc(tmp_path)], progress=False)
    catalog = SqliteCatalog(settings.index_dir)
    with catalog.db:
        catalog.db.execute("UPDATE meta SET value = ? WHERE key = 'sources'", (json.dumps({"not": "a list"}),))
    with pytest.raises(StoreError, match="catalog.sqlite is damaged.*--sources FILE"):
        reingest(settings)
    assert open_catalog(settings).sources() == {"os2borgerpc-docs": 2}
