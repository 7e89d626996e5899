"""One tokenizer per tokenizer.json in a process (#25): the counter and the encoder share it, and the
encoder's ids are cut and padded exactly as the tokenizer's own settings did."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from assistant.embed.embedder import load_token_counter, resolve_model
from assistant.embed.tokenizer import fitted, shared_tokenizer
from assistant.settings import BUNDLED_MODEL, Settings

E5 = Settings().embedding_model
TEXTS = ["", "Kort.", "passage: Styregruppen mødes fire gange om året.", "ord " * 300, "æøå kommunen, " * 200,
         "query: hvem betaler?", "x" * 3000, "- punkt\n- punkt 2\n\nafsnit"]


def tokenizer_file(model: str) -> Path:
    return Path(resolve_model(model)) / "tokenizer.json"


@pytest.mark.parametrize("model", [BUNDLED_MODEL, E5])
@pytest.mark.parametrize("limit", [8, 128, 512])
def test_ids_are_cut_and_padded_as_the_tokenizers_own_settings_did(model, limit):
    configured = Tokenizer.from_file(str(tokenizer_file(model)))
    configured.enable_truncation(limit)
    configured.enable_padding(pad_id=7, pad_token=configured.id_to_token(7) or "[PAD]")
    expected = configured.encode_batch(TEXTS)
    ids, mask, type_ids = fitted(shared_tokenizer(tokenizer_file(model)).encode_batch(TEXTS), limit, pad_id=7)
    assert ids.tolist() == [e.ids for e in expected]
    assert mask.tolist() == [e.attention_mask for e in expected]
    assert type_ids.tolist() == [e.type_ids for e in expected]
    single = fitted(shared_tokenizer(tokenizer_file(model)).encode_batch(TEXTS[3:4]), limit, pad_id=7)[0]
    assert single.shape == (1, min(limit, len(configured.encode(TEXTS[3]).ids)))  # alone: no padding


def test_one_tokenizer_per_content_shared_by_the_counter_and_never_truncating(tmp_path):
    copy = tmp_path / "tokenizer.json"
    shutil.copyfile(tokenizer_file(BUNDLED_MODEL), copy)
    assert shared_tokenizer(copy) is shared_tokenizer(tokenizer_file(BUNDLED_MODEL))  # as the reader's folder
    assert shared_tokenizer(tokenizer_file(E5)) is not shared_tokenizer(copy)
    tokenizer = shared_tokenizer(copy)
    assert tokenizer.truncation is None and tokenizer.padding is None
    count = load_token_counter(BUNDLED_MODEL)
    assert count("ord " * 400) > 256
    assert tokenizer.truncation is None  # counting configured nothing


def test_fitting_an_empty_batch():
    ids, mask, type_ids = fitted([], 16, 0)
    assert ids.shape == mask.shape == type_ids.shape == (0, 0) and ids.dtype == np.int64


@pytest.mark.parametrize("model", [BUNDLED_MODEL, E5])
def test_many_texts_are_counted_at_once_as_each_would_count_alone(model):
    """The chunker learns a level's units in one call: `each` is the count of each text alone, and
    `each_alone` finds the same from a few long encodings, for words, sentences, list items and
    texts past one slice; it declines texts whose whitespace joining would change."""
    count = load_token_counter(model)
    texts = ["Kort.", "Styregruppen mødes fire gange om året.", "ord " * 300, "æøå kommunen, " * 200,
             "- punkt 2", "x" * 3000, "https://example.dk/sti?x=1&y=2", "OS2borgerPC’s «kiosk»-tilstand (v3.2)!",
             *(f"ord{i}" for i in range(3000))]
    texts = [" ".join(text.split()) for text in texts]
    expected = [count(text) for text in texts]
    assert count.each(texts) == expected
    assert count.each_alone(texts) == expected
    assert count.each_alone(texts, slice_chars=50) == expected  # one slice per text or two
    assert count.each_alone(["to  mellemrum"]) is None and count.each_alone(["", "tekst"]) is None
