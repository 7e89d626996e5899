"""catalog.py: the SQLite catalog of an embedded index, used through the PageCatalog interface.
The Chroma-server catalog is tested against a real `chroma run` in test_server_store.py."""

import pytest

from assistant.errors import IndexMismatchError, IndexMissingError, IngestLockedError
from assistant.index.catalog import PageCatalog, PageChange
from assistant.index.factory import open_catalog
from assistant.models import Chunk, Page, sha1
from assistant.settings import Settings

SIGNATURE = {"embedding_model": "e5", "chunk_target_tokens": 200}


def change(path: str, *texts: str, source: str = "guide") -> PageChange:
    """A page of `texts`, one chunk each."""
    url = f"https://example.dk/{path}"
    page = Page(source, path, url, path, (path,), "", sha1("".join(texts)), True, [])
    chunks = [Chunk(source, path, path, (path,), (), "", url, "", text, i) for i, text in enumerate(texts)]
    return PageChange(source, path, page, chunks)


@pytest.fixture
def catalog(settings: Settings) -> PageCatalog:
    return open_catalog(settings)


def test_committed_pages_are_in_the_snapshot(catalog: PageCatalog) -> None:
    version = catalog.commit([change("a.md", "Første.", "Andet."), change("b.md", "Tredje.", source="other")],
                             SIGNATURE, {})
    snapshot = catalog.read_snapshot()
    assert (snapshot.version, snapshot.pages, snapshot.sources) == (version, 2, {"guide": 1, "other": 1})
    assert [c.text for c in snapshot.chunks.values()] == ["Første.", "Andet.", "Tredje."]
    assert snapshot.last_ingest is not None


def test_a_removed_page_takes_its_chunks_with_it(catalog: PageCatalog) -> None:
    catalog.commit([change("a.md", "Første."), change("b.md", "Andet.")], SIGNATURE, {})
    catalog.commit([PageChange("guide", "a.md", None)], SIGNATURE, {})
    assert [c.path for c in catalog.read_snapshot().chunks.values()] == ["b.md"]
    assert list(catalog.pages()) == [("guide", "b.md")]


def test_each_commit_is_a_new_version(catalog: PageCatalog) -> None:
    assert (catalog.version, catalog.exists()) == (0, False)
    first = catalog.commit([change("a.md", "Første.")], SIGNATURE, {})
    assert catalog.commit([change("a.md", "Ny.")], SIGNATURE, {}) == first + 1 == catalog.version


def test_another_signature_is_refused_naming_both(catalog: PageCatalog) -> None:
    catalog.commit([change("a.md", "Første.")], SIGNATURE, {})
    with pytest.raises(IndexMismatchError, match=r"chunk_target_tokens=200 \(settings say 150\)"):
        catalog.check_signature({**SIGNATURE, "chunk_target_tokens": 150}, "the index")


def test_recorded_sources_come_back_as_written(catalog: PageCatalog) -> None:
    sources = [{"name": "guide", "path": "/srv/guide"}, {"name": "other", "git": "https://example.dk/x.git"}]
    assert catalog.recorded_sources() is None
    catalog.record_sources(sources)
    assert catalog.recorded_sources() == sources
    catalog.commit([change("a.md", "Første.")], SIGNATURE, {}, sources=sources[:1])
    assert catalog.recorded_sources() == sources[:1]


def test_the_lock_admits_one_writer(catalog: PageCatalog) -> None:
    first, second = catalog.lock(), catalog.lock()
    first.acquire()
    try:
        with pytest.raises(IngestLockedError, match="Another ingest"):
            second.acquire()
    finally:
        first.release()
    second.acquire()
    assert second.is_locked
    second.release()


def test_clear_leaves_no_version_and_no_pages(catalog: PageCatalog) -> None:
    catalog.commit([change("a.md", "Første.")], SIGNATURE, {}, sources=[{"name": "guide"}])
    catalog.clear()
    snapshot = catalog.read_snapshot()
    assert (snapshot.version, snapshot.pages, snapshot.chunks) == (0, 0, {})
    assert (catalog.exists(), catalog.recorded_sources(), catalog.signature()) == (False, None, None)


def test_a_missing_index_is_refused_when_it_must_exist(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="run `python -m ingest` first"):
        open_catalog(settings, must_exist=True)


def test_threads_sharing_a_catalog_read_whole_versions_while_it_is_written(catalog: PageCatalog) -> None:
    """A serving process shares one catalog between its threads (each gets its own connection): a
    snapshot read during commits is always one whole version, never half of one."""
    import threading

    base = catalog.commit([change("a.md", "v0 en.", "v0 to.")], SIGNATURE, {})
    seen: list[tuple[int, set[str]]] = []
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(200):
                snapshot = catalog.read_snapshot()
                seen.append((snapshot.version, {c.text.split()[0] for c in snapshot.chunks.values()}))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            failures.append(exc)
        finally:
            catalog.close()  # this thread's connection

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(1, 30):
        catalog.commit([change("a.md", f"v{n} en.", f"v{n} to.")], SIGNATURE, {})
    reader.join()
    assert not failures
    assert all(texts == {f"v{version - base}"} for version, texts in seen), seen[:5]  # both chunks of one version
