"""Damaged index files at start (#22 item 3): each is named, with the fix, and nothing recorded is lost."""

import numpy as np
import pytest

from assistant.errors import StoreError
from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.index.embedding_cache import EmbeddingCache


def test_a_zero_byte_catalog_is_not_taken_for_a_new_index(tmp_path):
    (tmp_path / "catalog.sqlite").write_bytes(b"")
    with pytest.raises(StoreError, match=r"catalog\.sqlite.*empty.*backup"):
        SqliteCatalog.open_existing(tmp_path)
    assert (tmp_path / "catalog.sqlite").read_bytes() == b""  # nothing written over it


def test_a_truncated_catalog_is_named_with_the_fix_not_a_traceback(tmp_path):
    catalog = SqliteCatalog(tmp_path)
    catalog.record_sources([{"name": "s", "location": "x"}] * 2000)
    catalog.close()
    data = (tmp_path / "catalog.sqlite").read_bytes()
    (tmp_path / "catalog.sqlite").write_bytes(data[: len(data) // 3])
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with pytest.raises(StoreError, match=r"catalog\.sqlite.*damaged"):
        SqliteCatalog.open_existing(tmp_path).recorded_sources()


def test_a_garbage_catalog_is_named_with_the_fix(tmp_path):
    (tmp_path / "catalog.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match=r"catalog\.sqlite.*damaged"):
        SqliteCatalog(tmp_path)


def test_a_garbage_embedding_cache_is_moved_aside_and_started_again(tmp_path, caplog):
    (tmp_path / "embeddings.sqlite").write_bytes(b"garbage" * 1000)
    cache = EmbeddingCache(tmp_path)
    cache.put_many("m", {"h": np.ones(3, dtype=np.float32)})
    assert list(cache.get_many("m", ["h"])) == ["h"]
    assert any(p.name.startswith("embeddings.sqlite.damaged") for p in tmp_path.iterdir())
    assert "embeddings.sqlite" in caplog.text


def _chunks(n: int):  # type: ignore[no-untyped-def]
    from assistant.models import Chunk

    return {c.id: c for c in (Chunk(source="s", path=f"p{i}.md", title=f"Side {i}", breadcrumb=(), headings=("H",),
                                    anchor="h", url=f"https://x/p{i}#h", date="", text=f"tekst nummer {i}", ordinal=0)
                              for i in range(n))}


def _damaged_chroma_folder(settings):  # type: ignore[no-untyped-def]
    """An embedded index whose vectors are in the embedding cache, then chroma.sqlite3 overwritten."""
    from assistant.embed.embedder import embedding_key
    from assistant.index.store import collection_name, open_store

    chunks = _chunks(5)
    vectors = {c.text_hash: np.random.default_rng(i).random(8).astype(np.float32) for i, c in enumerate(chunks.values())}
    cache = EmbeddingCache(settings.index_dir)
    cache.put_many(embedding_key(settings.embedding_model, settings.embedding_backend), vectors)
    cache.close()
    name = collection_name(settings.collection, settings.chunking_signature())
    store = open_store(settings, name)
    store.add(list(chunks), np.stack([vectors[c.text_hash] for c in chunks.values()]),
              [c.text for c in chunks.values()], [c.metadata() for c in chunks.values()])
    store.close()
    (settings.index_dir / "chroma" / "chroma.sqlite3").write_bytes(b"garbage, not a database" * 5000)
    return name, chunks, vectors


def test_a_garbage_chroma_folder_is_moved_aside_named_and_rebuilt_from_the_embedding_cache(settings, caplog):
    from assistant.index.store import check_vectors, open_store

    name, chunks, vectors = _damaged_chroma_folder(settings)

    def no_model(texts):  # type: ignore[no-untyped-def]
        raise AssertionError("every vector is in the embedding cache")

    store = open_store(settings, name)
    check = check_vectors(store, lambda: chunks, settings, no_model)
    folder = settings.index_dir / "chroma"
    assert "Is the Chroma server running" not in caplog.text
    assert str(folder) in caplog.text and "embedding cache" in caplog.text
    assert any(p.name.startswith("chroma.damaged-") for p in settings.index_dir.iterdir())  # kept for a look
    assert (check.missing, check.repaired, check.embedded) == (5, 5, 0)
    assert check.rebuilt is not None and str(folder) in check.rebuilt  # what /readyz shows
    stored = store.vectors(list(chunks))
    assert all(np.allclose(stored[i], vectors[c.text_hash]) for i, c in chunks.items())


def test_a_chroma_folder_that_cannot_be_opened_for_another_reason_is_named_without_the_server_hint(settings):
    from assistant.index.store import open_store

    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "chroma").write_text("a file where the folder should be")
    with pytest.raises(StoreError) as raised:
        open_store(settings, "c")
    assert "Is the Chroma server running" not in str(raised.value)
    assert str(settings.index_dir / "chroma") in str(raised.value)


def test_the_app_rebuilds_a_garbage_chroma_folder_answers_and_readyz_says_so(index_current, copy_index, tmp_path):
    from fastapi.testclient import TestClient

    from app import create_app
    from assistant.index.store import VectorCheck
    from assistant.settings import Settings

    index = copy_index(index_current)
    (index / "chroma" / "chroma.sqlite3").write_bytes(b"garbage, not a database" * 5000)
    app = create_app(Settings(index_dir=index, cache_dir=tmp_path / "cache", rate_limit_per_minute=0),
                     feedback_db=tmp_path / "f.sqlite")
    with TestClient(app) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok" and str(index / "chroma") in ready["vectors"]["rebuilt"]
        assert ready["vectors"]["missing"] == ready["vectors"]["repaired"] > 0
        assert ready["vectors"]["embedded"] == 0  # all from the embedding cache
        assert client.post("/api/ask", json={"question": "Hvad er OS2produktmodning?"}).status_code == 200
        app.state.assistant.vector_check = VectorCheck(checked=10, missing=4, repaired=0, error="disk read-only")
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded" and "vektor" in ready["detail"]


def test_a_database_with_an_interrupted_write_beside_it_is_not_called_cut_off(tmp_path):
    """A -journal (or -wal) file beside it: SQLite rolls the write back itself; the header's page count
    may already claim the pages the interrupted write was adding."""
    import sqlite3

    import pytest as _pytest

    from assistant.errors import StoreError
    from assistant.index.sqlite_file import check_sqlite_file

    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
        db.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(200)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header still counts the pages of the whole file
    with _pytest.raises(StoreError, match="cut off"):
        check_sqlite_file(path, "a test", "")
    (tmp_path / "db.sqlite-journal").write_bytes(b"")
    check_sqlite_file(path, "a test", "")  # no error: SQLite's own rollback decides


def test_a_locked_chroma_database_is_no_damage(tmp_path):
    import sqlite3

    from assistant.index.chroma_folder import CHROMA_FILE, chroma_damage

    folder = tmp_path / "chroma"
    folder.mkdir()
    with sqlite3.connect(folder / CHROMA_FILE) as db:
        db.execute("CREATE TABLE t (x)")
    holder = sqlite3.connect(folder / CHROMA_FILE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert chroma_damage(folder, RuntimeError("the open failed")) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
