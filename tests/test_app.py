"""app.py at start: an index built with the earlier default model is re-embedded once, then served."""

from pathlib import Path

from assistant.catalog import open_catalog
from assistant.service import Assistant
from assistant.settings import BUNDLED_MODEL, DEFAULT_MODEL, Settings
from tests.ingest.test_pipeline import make_site


def test_an_index_of_the_earlier_model_is_re_embedded_once_at_start(tmp_path: Path, caplog):
    from app import ensure_index

    site = make_site(tmp_path / "site", {"a.md": "Borgerservice åbner klokken ni om morgenen.",
                                         "b.md": "Styregruppen mødes fire gange om året."})
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "lille"\npath = "{site}"\n')
    old = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", sources_file=sources,
                   embedding_model=BUNDLED_MODEL)
    ensure_index(old)
    assert open_catalog(old).signature()["embedding_model"] == BUNDLED_MODEL
    new = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", sources_file=sources)
    assert new.embedding_model == DEFAULT_MODEL
    with caplog.at_level("WARNING"):
        ensure_index(new)
    assert f"built with {BUNDLED_MODEL}" in caplog.text and "re-embedding it once" in caplog.text
    assert open_catalog(new).signature()["embedding_model"] == DEFAULT_MODEL
    answer = Assistant.open(new).ask("Hvornår åbner borgerservice?")
    assert answer.answered and answer.citations[0].path == "a.md"
    caplog.clear()
    ensure_index(new)  # once: the next start just serves
    assert "re-embedding" not in caplog.text
