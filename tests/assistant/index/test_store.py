"""store.py: the consistency check of the vector store against the catalog, on a copy of the real
index damaged the two ways embedded Chroma shows it: vectors gone, and vectors listed but unreadable
("Error finding id"). Opening the Assistant finds them by reading every live vector, writes them again
(from the embedding cache, or the model when the cache has none) and reports it in status()."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.index.store import CHECK_BATCH, ChromaStore, check_vectors, collection_name, open_store
from assistant.serve.service import Assistant
from assistant.settings import Settings


def store_of(settings: Settings) -> ChromaStore:
    return open_store(settings, collection_name(settings.collection, settings.chunking_signature()))


def live_ids(index_dir: Path) -> list[str]:
    catalog = SqliteCatalog(index_dir)
    try:
        return sorted(catalog.chunk_ids())
    finally:
        catalog.close()


def stored_vectors(settings: Settings, ids: list[str]) -> dict[str, np.ndarray]:
    result = store_of(settings)._collection.get(ids=ids, include=["embeddings"])
    return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"], strict=True)}


def delete_vectors(settings: Settings, ids: list[str]) -> None:
    """The damage, done directly to the Chroma collection: the catalog still lists these chunks."""
    store_of(settings)._collection.delete(ids=ids)


def assert_every_live_vector_is_readable(settings: Settings, ids: list[str]) -> None:
    store = store_of(settings)
    assert store.missing_vectors(ids) == []
    assert set(stored_vectors(settings, ids)) == set(ids)  # fetched, not only listed


def test_a_complete_index_opens_with_nothing_missing(index_current, copy_index):
    settings = Settings(index_dir=copy_index(index_current))
    vectors = Assistant.open(settings).status()["vectors"]
    assert vectors["checked"] == len(live_ids(settings.index_dir)) > 0
    assert vectors["missing"] == vectors["repaired"] == 0 and vectors["error"] is None


def test_opening_writes_deleted_vectors_again_from_the_embedding_cache(index_current, copy_index, caplog):
    settings = Settings(index_dir=copy_index(index_current))
    ids = live_ids(settings.index_dir)
    damaged = ids[::40]
    before = stored_vectors(settings, damaged)
    delete_vectors(settings, damaged)
    assert store_of(settings).missing_vectors(ids) == damaged
    with caplog.at_level(logging.WARNING, logger="store"):
        assistant = Assistant.open(settings)
    vectors = assistant.status()["vectors"]
    assert (vectors["checked"], vectors["missing"], vectors["repaired"], vectors["embedded"]) == (
        len(ids), len(damaged), len(damaged), 0)
    assert f"{len(damaged)} of {len(ids)} live chunks had no readable vector" in caplog.text
    assert_every_live_vector_is_readable(settings, ids)
    after = stored_vectors(settings, damaged)
    assert all(np.array_equal(before[i], after[i]) for i in damaged)
    hit = store_of(settings).query(before[damaged[0]], 1)[0]  # dense search finds the chunk again
    assert hit.id == damaged[0]


def test_opening_embeds_a_deleted_vector_the_cache_does_not_have(index_current, copy_index, tmp_path):
    settings = Settings(index_dir=copy_index(index_current), embedding_cache_dir=tmp_path / "empty-cache")
    ids = live_ids(settings.index_dir)
    damaged = ids[:3]
    before = stored_vectors(settings, damaged)
    delete_vectors(settings, damaged)
    vectors = Assistant.open(settings).status()["vectors"]
    assert (vectors["missing"], vectors["repaired"], vectors["embedded"]) == (3, 3, 3)
    after = stored_vectors(settings, damaged)
    # The same model; int8 quantisation of activations per batch moves a vector by a little (cosine ~0.99).
    assert all(float(np.dot(before[i], after[i])) > 0.97 for i in damaged)


@pytest.fixture(scope="module")
def large_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    """A synthetic site of ~1,500 chunks (more than Chroma's sync threshold of 1,000) with hash vectors
    (bench.scale's FakeVectors, under a batch size of its own so that no real embedder is replaced):
    enough for Chroma to persist its HNSW files."""
    from assistant.sites.sources import SourceSpec
    from bench.scale import use_fake_vectors
    from bench.synth import generate
    from ingest.pipeline import ingest
    from tests.conftest import SHARED, require_shared

    work = tmp_path_factory.mktemp("large")
    generate(work / "site", pages=320, seed=3, shared=require_shared(SHARED))
    settings = Settings(index_dir=work / "index", cache_dir=work / "cache", embedding_batch_size=7)
    use_fake_vectors(settings)
    ingest(settings, [SourceSpec(name="stor", path=work / "site")], progress=False)
    return work / "index", settings


def test_vectors_that_are_listed_but_unreadable_are_found_and_written_again(large_index, tmp_path):
    """Chroma's HNSW files gone while its SQLite still lists the ids: reading a vector fails with
    "Error finding id" (as after a writer was killed), and listing ids finds nothing wrong."""
    index_dir = tmp_path / "index"
    shutil.copytree(large_index[0], index_dir)
    for segment in (index_dir / "chroma").iterdir():
        if segment.is_dir():
            shutil.rmtree(segment)
    settings = large_index[1].model_copy(update={"index_dir": index_dir})
    ids = live_ids(index_dir)
    assert store_of(settings).ids() == set(ids)  # every id listed...
    with pytest.raises(Exception, match="Error finding id"):
        store_of(settings)._collection.get(ids=ids, include=["embeddings"])  # ...but not readable
    vectors = Assistant.open(settings).status()["vectors"]
    assert vectors["missing"] == vectors["repaired"] >= len(ids) - 1 and vectors["embedded"] == 0
    assert_every_live_vector_is_readable(settings, ids)


def test_an_ingest_holding_the_lock_is_left_to_repair(index_current, copy_index):
    settings = Settings(index_dir=copy_index(index_current))
    ids = live_ids(settings.index_dir)
    delete_vectors(settings, ids[:2])
    with FileLock(str(Path(settings.index_dir) / "ingest.lock")):  # an ingest is running
        vectors = Assistant.open(settings).status()["vectors"]
    assert (vectors["missing"], vectors["repaired"]) == (2, 0) and "an ingest is running" in vectors["error"]
    assert store_of(settings).missing_vectors(ids) == ids[:2]


def test_the_check_reads_vectors_in_batches(tmp_path):
    """10,000 live chunks: ten reads of a thousand vectors, not ten thousand reads."""
    settings = Settings(index_dir=tmp_path / "index")
    store = open_store(settings, "batches")
    n = 10 * CHECK_BATCH
    vectors = np.random.default_rng(1).standard_normal((n, 8)).astype(np.float32)
    ids = [f"c{i}" for i in range(n)]
    store.add(ids, vectors, ["tekst"] * n, [{"i": i} for i in range(n)])
    reads: list[int] = []
    get = store._collection.get

    def counting_get(**kwargs):  # type: ignore[no-untyped-def]
        reads.append(len(kwargs.get("ids") or []))
        return get(**kwargs)

    store._collection.get = counting_get  # type: ignore[method-assign]
    check = check_vectors(store, lambda: dict.fromkeys(ids), settings, lambda texts: np.zeros((0, 8)))  # type: ignore[arg-type, return-value]
    assert (check.checked, check.missing) == (n, 0)
    assert reads == [CHECK_BATCH] * 10
