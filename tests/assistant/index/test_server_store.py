"""Ingest, query and re-ingest against a real Chroma server (`chroma run` on 127.0.0.1)."""

import itertools

import pytest

from assistant.errors import IngestLockedError
from assistant.index.catalog_server import ServerCatalog
from assistant.index.factory import open_catalog
from assistant.index.store import collection_name, open_store
from assistant.serve.service import Assistant
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec
from ingest.pipeline import ingest
from tests.conftest import PRODUKTMODNING, PRODUKTMODNING_OLD, needs_shared
from tests.ingest.test_pipeline import PAGE, file_level_diff, make_site

_names = itertools.count()


@pytest.fixture
def server_settings(chroma_server, tmp_path) -> Settings:
    """Settings of one app host: its own local folder, the shared server, a collection per test."""
    return Settings(index_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=chroma_server,
                    collection=f"t{next(_names)}")


def run(settings: Settings, root, name: str = "lille"):  # type: ignore[no-untyped-def]
    return ingest(settings, [SourceSpec(name=name, path=root)], progress=False)


@needs_shared  # the update from the older state
def test_real_update_against_the_server_matches_the_file_level_diff(server_settings, index_current):
    settings = server_settings.model_copy(update={"embedding_cache_dir": index_current})  # cached vectors
    run(settings, PRODUKTMODNING_OLD, "os2produktmodning")
    report = run(settings, PRODUKTMODNING, "os2produktmodning").sources[0]
    expected = file_level_diff(PRODUKTMODNING_OLD, PRODUKTMODNING)
    assert {k: set(getattr(report, k)) for k in expected} == expected
    catalog = open_catalog(settings)
    assert isinstance(catalog, ServerCatalog)
    live = catalog.chunk_ids()
    store = open_store(settings, collection_name(settings.collection, settings.chunking_signature()))
    assert store.ids() == live
    assert not {c.path for _, c in catalog.chunks()} & expected["removed"]
    answer = Assistant.open(settings).ask("Hvem leverer vedligeholdelsen af OS2forms?")
    assert answer.answered and answer.citations[0].path.endswith("OS2forms.md")


def test_a_second_host_sees_a_new_version_without_restart(server_settings, tmp_path):
    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen."})
    run(server_settings, site)
    other_host = Assistant.open(server_settings.model_copy(update={"index_dir": tmp_path / "other"}))
    assert "mandagen" in other_host.ask("Hvornår hentes affald?").text
    (site / "a.md").write_text(PAGE.format(t="a", body="Affald hentes om fredagen."), encoding="utf-8")
    run(server_settings, site)
    answer = other_host.ask("Hvornår hentes affald?")
    assert "fredagen" in answer.text and "mandagen" not in answer.text


def test_the_server_catalog_remembers_file_keys(server_settings, tmp_path, monkeypatch):
    from tests.ingest.test_pipeline import count_parses

    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen.", "b.md": "Haven."})
    run(server_settings, site)
    (site / "a.md").write_text(PAGE.format(t="a", body="Affald hentes om mandagen."),
                               encoding="utf-8-sig")  # an editor added a byte-order mark: same text
    parsed = count_parses(monkeypatch)
    version = open_catalog(server_settings).version
    assert sorted(run(server_settings, site).sources[0].unchanged) == ["a.md", "b.md"] and parsed == ["a.md"]
    assert sorted(run(server_settings, site).sources[0].unchanged) == ["a.md", "b.md"] and parsed == ["a.md"]
    assert open_catalog(server_settings).version == version
    assert "mandagen" in Assistant.open(server_settings).ask("Hvornår hentes affald?").text


def test_only_one_ingest_at_a_time_across_hosts(server_settings, tmp_path):
    site = make_site(tmp_path / "site", {"a.md": "Tekst."})
    lease = open_catalog(server_settings).lock()
    lease.acquire()
    try:
        with pytest.raises(IngestLockedError, match="Another ingest"):
            run(server_settings.model_copy(update={"index_dir": tmp_path / "other"}), site)
    finally:
        lease.release()
    assert run(server_settings, site).sources[0].added == ["a.md"]


def test_crash_before_the_head_switch_keeps_the_old_version(server_settings, tmp_path, monkeypatch):
    site = make_site(tmp_path / "site", {"a.md": "Gammel tekst."})
    run(server_settings, site)
    (site / "a.md").write_text(PAGE.format(t="a", body="Ny tekst."), encoding="utf-8")
    original = ServerCatalog.commit

    def crash(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(ServerCatalog, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        run(server_settings, site)
    monkeypatch.setattr(ServerCatalog, "commit", original)
    assert [c.text for _, c in open_catalog(server_settings).chunks()] == ["Gammel tekst."]
    assert run(server_settings, site).sources[0].changed == ["a.md"]
    assert [c.text for _, c in open_catalog(server_settings).chunks()] == ["Ny tekst."]


def test_vectors_deleted_from_the_server_are_written_again_when_a_host_opens(server_settings, tmp_path):
    site = make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen.", "b.md": "Haven lukker kl. 18."})
    run(server_settings, site)
    store = open_store(server_settings, collection_name(server_settings.collection, server_settings.chunking_signature()))
    live = sorted(open_catalog(server_settings).chunk_ids())
    store._collection.delete(ids=live[:1])
    assert store.missing_vectors(live) == live[:1]
    other_host = Assistant.open(server_settings.model_copy(update={"index_dir": tmp_path / "other"}))
    vectors = other_host.status()["vectors"]
    assert (vectors["checked"], vectors["missing"], vectors["repaired"]) == (len(live), 1, 1)
    assert store.missing_vectors(live) == []
    lease = open_catalog(server_settings).lock()
    lease.acquire()  # the repair gave its lease back
    lease.release()


def test_a_snapshot_read_reads_the_head_once(server_settings, tmp_path, monkeypatch):
    from chromadb.api.models.Collection import Collection

    run(server_settings, make_site(tmp_path / "site", {"a.md": "Affald hentes om mandagen.", "b.md": "Haven."}))
    catalog = open_catalog(server_settings)
    reads: list[dict] = []
    get = Collection.get

    def counted(self, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(kwargs)
        return get(self, **kwargs)

    monkeypatch.setattr(Collection, "get", counted)
    snapshot = catalog.read_snapshot()
    assert [r.get("ids") for r in reads] == [["head"], None]  # the head, then its generation's pages
    assert (snapshot.version, snapshot.pages, snapshot.sources) == (1, 2, {"lille": 2})
    assert sorted(c.path for c in snapshot.chunks.values()) == ["a.md", "b.md"]
