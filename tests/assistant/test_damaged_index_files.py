"""Damaged index files at start (#22 item 3): each is named, with the fix, and nothing recorded is lost."""

import numpy as np
import pytest

from assistant.catalog_sqlite import SqliteCatalog
from assistant.embedding_cache import EmbeddingCache
from assistant.errors import StoreError


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
