"""Index: what is live (the catalog), its vectors (Chroma, embedded or server), the embedding cache.
Takes an ingest's pages, chunks and vectors, committed as one version; hands on a version to read."""

from assistant.index.catalog import CatalogSnapshot, PageCatalog, PageChange, PageRecord
from assistant.index.embedding_cache import EmbeddingCache
from assistant.index.factory import open_catalog, writer_lock
from assistant.index.lock import WriterLock
from assistant.index.store import ChromaStore, VectorCheck, VectorStore, check_vectors, collection_name, open_store

__all__ = [
    "CatalogSnapshot", "ChromaStore", "EmbeddingCache", "PageCatalog", "PageChange", "PageRecord", "VectorCheck",
    "VectorStore", "WriterLock", "check_vectors", "collection_name", "open_catalog", "open_store", "writer_lock",
]
