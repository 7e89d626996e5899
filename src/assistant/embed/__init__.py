"""Embed: the embedding model, named once in settings (bundled e5 or MiniLM; torch or ONNX backends).
Takes passages and questions; hands on normalised vectors (`Embedder`) and the model's token counts."""

from assistant.embed.embedder import (
    BACKENDS,
    Embedder,
    embedding_key,
    get_embedder,
    load_token_counter,
    make_embedder,
    model_cache_folder,
    resolve_model,
)

__all__ = ["BACKENDS", "Embedder", "embedding_key", "get_embedder", "load_token_counter", "make_embedder",
           "model_cache_folder", "resolve_model"]
