"""The reader (assistant/read/): the shipped model loads and reads, a damaged one falls back to the
cosine with one clear line, long sentences are read whole."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ReaderError
from assistant.read import CosineReader, TrainedReader, make_reader, weights
from assistant.read.reader import fitting_pieces
from assistant.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", reader="trained")


def _cosine_parts():  # type: ignore[no-untyped-def]
    return (lambda q: np.ones(3, dtype=np.float32), lambda texts: np.ones((len(texts), 3), dtype=np.float32))


@pytest.mark.parametrize("content", [b"", b"not an archive at all", b"PK\x03\x04 truncated"])
def test_a_damaged_reader_file_falls_back_to_the_cosine_with_one_line_naming_it(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        content: bytes) -> None:
    damaged = tmp_path / "reader-e5-small.npz"
    damaged.write_bytes(content)
    monkeypatch.setattr(weights, "SHIPPED", damaged)
    with caplog.at_level(logging.ERROR, logger="assistant"):
        reader = make_reader(settings, *_cosine_parts())
    assert isinstance(reader, CosineReader)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and str(damaged) in errors[0] and "bench.train_reader" in errors[0]


def test_a_damaged_archive_is_refused_when_its_tensors_are_read(tmp_path: Path) -> None:
    path = tmp_path / "r.npz"
    np.savez(path, format=np.array(weights.FORMAT), other=np.zeros(3))
    with pytest.raises(ReaderError, match="no encoder layers"):
        weights.load_trained(path)
    np.savez(path, format=np.array(weights.FORMAT + 1))
    with pytest.raises(ReaderError, match="another format"):
        weights.load_trained(path)


def test_saved_weights_round_trip_without_the_word_embeddings(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = torch.nn.Module()
            self.embeddings.word_embeddings = torch.nn.Embedding(50, 8)
            self.encoder = torch.nn.Module()
            self.encoder.layer = torch.nn.ModuleList([torch.nn.Linear(8, 8)])

    tiny = Tiny()
    out = weights.save_trained(tiny, tmp_path / "tiny.npz")
    loaded = weights.load_trained(out)
    assert set(loaded) == {"encoder.layer.0.weight", "encoder.layer.0.bias"}
    original = tiny.encoder.layer[0].weight.detach().numpy()
    assert np.abs(loaded["encoder.layer.0.weight"] - original).max() <= np.abs(original).max() / 127 + 1e-6


def test_the_cosine_reader_is_served_when_the_settings_name_it(settings: Settings) -> None:
    reader = make_reader(settings.model_copy(update={"reader": "cosine"}), *_cosine_parts())
    assert reader.name == "cosine" and reader.key == "multilingual-e5-small@onnx-int8"


def test_a_long_sentence_is_read_in_pieces_that_fit_never_cut() -> None:
    count = lambda text: 2 + len(text.split()) + sum(len(w) > 10 for w in text.split())  # noqa: E731
    text = " ".join(f"ord{i}" for i in range(100)) + " " + "x" * 40
    pieces = fitting_pieces(text, count, 12)
    assert all(count(p) <= 12 for p in pieces)
    assert "".join(" ".join(pieces).split()) == "".join(text.split())  # every character kept, in order


def test_the_pieces_of_a_long_sentence_fit_the_model_by_its_own_count(settings: Settings) -> None:
    from assistant.embed.embedder import load_token_counter

    count = load_token_counter(settings.embedding_model)
    text = "Borgeren kan låne en pc på biblioteket og printe dokumenter, når det passer. " * 60
    pieces = fitting_pieces(text, count, 512)
    assert len(pieces) == 3 and all(count(p) <= 512 for p in pieces)  # was 2 pieces, the first of 702
    assert max(count(p) for p in pieces) >= 500  # and they are full


def test_the_shipped_reader_loads_and_ranks_the_sentence_that_answers_first(settings: Settings) -> None:
    reader = make_reader(settings, *_cosine_parts())
    assert isinstance(reader, TrainedReader)
    question = reader.question_vector("Hvor lang tid gemmes logfilerne?")
    sentences = ["Logning: Systemet skriver en logfil for hver bruger, der logger ind.",
                 "Logning: Logfilerne slettes automatisk efter 90 dage.",
                 "Logning: Administratorer kan se logfilerne under menuen Rapporter."]
    scores = reader.sentence_vectors(sentences) @ question
    assert int(np.argmax(scores)) == 1


def test_a_sentence_longer_than_the_model_input_is_read_to_its_end(settings: Settings) -> None:
    reader = make_reader(settings, *_cosine_parts())
    filler = "Borgeren kan låne en pc på biblioteket og printe dokumenter, når det passer. " * 60
    long = filler + "Logfilerne på pc'erne slettes automatisk efter 90 dage."
    question = reader.question_vector("Hvornår slettes logfilerne?")
    whole, head = reader.sentence_vectors([long, filler])
    assert abs(float(np.linalg.norm(whole)) - 1) < 1e-4
    assert float(whole @ question) > float(head @ question)  # the end, past the model's input, was read


def test_an_index_built_before_the_reader_is_read_at_query_time(tmp_path: Path) -> None:
    from assistant.serve.service import Assistant
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    site = tmp_path / "site"
    site.mkdir()
    (site / "drift.md").write_text("---\ntitle: Drift\n---\n# Drift\n\n## Logning\n\nLogfilerne slettes automatisk "
                                   "efter 90 dage. Administratorer kan se dem under menuen Rapporter.\n", encoding="utf-8")
    before = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", reader="cosine")
    ingest(before, [SourceSpec(name="site", path=site)], progress=False)
    assistant = Assistant.open(Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", reader="trained"))
    assert isinstance(assistant.reader, TrainedReader)
    assert _vectors_of(tmp_path / "index", assistant.reader.key) == 0  # the cosine's only, from the ingest
    answer = assistant.ask("Hvornår slettes logfilerne?")
    assert answer.answered and "90 dage" in answer.text
    assert _vectors_of(tmp_path / "index", assistant.reader.key) > 0  # read, and kept, at query time


def _vectors_of(index: Path, model: str) -> int:
    import sqlite3

    with sqlite3.connect(index / "embeddings.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)).fetchone()[0])


def test_the_shipped_reader_fits_in_the_repository() -> None:
    assert weights.SHIPPED.is_file() and weights.SHIPPED.stat().st_size <= 30 * 1024 * 1024


def test_an_english_question_finds_the_danish_sentence_that_answers(settings: Settings) -> None:
    reader = make_reader(settings, *_cosine_parts())
    question = reader.question_vector("Who pays for the operation of the product?")
    sentences = ["Økonomi: Produktet finansieres af de deltagende kommuner gennem et årligt kontingent.",
                 "Økonomi: Budgettet for 2025 blev vedtaget på styregruppemødet i marts.",
                 "Drift: Leverandøren står for den daglige drift og overvågning."]
    assert int(np.argmax(reader.sentence_vectors(sentences) @ question)) == 0


def test_a_table_row_read_as_labels_and_values_is_found(settings: Settings) -> None:
    reader = make_reader(settings, *_cosine_parts())
    question = reader.question_vector("Hvem er leverandør af OS2display?")
    rows = ["Produkter: Produkt: OS2borgerPC; Leverandør: Magenta ApS; Status: I drift",
            "Produkter: Produkt: OS2display; Leverandør: ITK Development; Status: I drift",
            "Produkter: Produkt: OS2forms; Leverandør: Bellcom; Status: Under modning"]
    assert int(np.argmax(reader.sentence_vectors(rows) @ question)) == 1


def test_the_reader_reads_the_weights_file_named_when_it_is_made(settings: Settings, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/reader_sites.py measures a held-out fold's reader by naming its file."""
    shipped = TrainedReader(settings)
    other = tmp_path / "fold.npz"
    other.write_bytes(shipped.shipped.read_bytes()[:1000])  # another file: another key for its sentence vectors
    monkeypatch.setattr(weights, "SHIPPED", other)
    reader = TrainedReader(settings)
    assert reader.shipped == other
    assert reader.key == f"reader-{weights.digest(other)}@{settings.embedding_backend}" != shipped.key
