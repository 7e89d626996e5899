"""app.py at start: an index built with the earlier default model is re-embedded once, then served."""

from pathlib import Path

from assistant.index.factory import open_catalog
from assistant.serve.service import Assistant
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


def test_an_index_of_another_model_is_served_as_built_while_it_is_re_embedded(tmp_path: Path, monkeypatch):
    """The upgrade path of `python app.py`: the old index answers during the re-embed (held mid-way
    here by an event, not by timing), the app switches when the new one is committed."""
    import threading

    from fastapi.testclient import TestClient

    import ingest.pipeline
    from app import built_with, ensure_index, start_app
    from assistant.settings import MODEL_CALIBRATION

    site = make_site(tmp_path / "site", {"a.md": "Borgerservice åbner klokken ni om morgenen.",
                                         "b.md": "Styregruppen mødes fire gange om året."})
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "lille"\npath = "{site}"\n')
    paths = {"index_dir": tmp_path / "index", "cache_dir": tmp_path / "cache", "sources_file": sources}
    ensure_index(Settings(**paths, embedding_model=BUNDLED_MODEL))
    new = Settings(**paths)
    previous = built_with(new)
    assert previous is not None and previous.embedding_model == BUNDLED_MODEL
    assert previous.dense_weight == MODEL_CALIBRATION[BUNDLED_MODEL]["dense_weight"]  # the old model's calibration
    assert built_with(previous) is None  # the index matches its own settings: nothing to re-embed

    embedding, go_on = threading.Event(), threading.Event()
    embed = ingest.pipeline._embed

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        embedding.set()
        assert go_on.wait(120)
        return embed(*args, **kwargs)

    monkeypatch.setattr(ingest.pipeline, "_embed", held)
    app = start_app(new, feedback_db=tmp_path / "feedback.sqlite")  # what `python app.py` serves
    with TestClient(app) as client:
        thread = app.state.reembed
        assert embedding.wait(120)  # the re-embed runs: the old index still answers
        answer = client.post("/api/ask", json={"question": "Hvornår åbner borgerservice?"}).json()
        assert answer["answered"] and answer["citations"][0]["path"] == "a.md"
        assert app.state.assistant.settings.embedding_model == BUNDLED_MODEL
        assert client.get("/readyz").json()["reembedding"] == DEFAULT_MODEL
        go_on.set()
        thread.join(300)
        assert app.state.assistant.settings.embedding_model == DEFAULT_MODEL
        answer = client.post("/api/ask", json={"question": "Hvornår åbner borgerservice?"}).json()
        assert answer["answered"] and answer["citations"][0]["path"] == "a.md"
        assert "reembedding" not in client.get("/readyz").json()
        assert app.state.settings.embedding_model == DEFAULT_MODEL  # re-ingests from here use the new model
    assert open_catalog(new).signature()["embedding_model"] == DEFAULT_MODEL


TOKEN = "admin-token-7c1e-4f0a-9b2d-e81c"
SECRET = "webhook-secret-93ab-51d7-c0fe"


def test_the_admin_reingest_of_an_index_built_from_one_source_reingests_that_source(tmp_path: Path):
    """`python -m ingest --source os2borgerpc-docs --index X`, then served: the re-ingest button reads
    that source, not corpus/sources.toml (which would remove its pages and add two other sites)."""
    import time

    from fastapi.testclient import TestClient

    from app import create_app
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    site = make_site(tmp_path / "borgerpc", {"drift.md": "Cron-jobs kører om natten.", "om.md": "Om OS2borgerPC."})
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", admin_token=TOKEN,
                        webhook_secret=SECRET)  # sources_file: the default corpus/sources.toml
    ingest(settings, [SourceSpec(name="os2borgerpc-docs", path=site)], progress=False)
    with TestClient(create_app(settings, feedback_db=tmp_path / "feedback.sqlite")) as client:
        reply = client.post("/api/admin/reingest", headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 202
        for _ in range(600):
            state = client.get(f"/api/admin/ingest/{reply.json()['job']['id']}",
                               headers={"Authorization": f"Bearer {TOKEN}"}).json()
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert state["state"] == "done", state
        assert [(s["name"], len(s["unchanged"]), s["removed"]) for s in state["report"]["sources"]] == [
            ("os2borgerpc-docs", 2, [])]
        assert state["report"]["source_changes"] == {"added": [], "removed": [], "changed": []}
        assert client.app.state.git_sources() == []  # no webhook can start a run of corpus/sources.toml either
    assert open_catalog(settings).sources() == {"os2borgerpc-docs": 2}


def test_a_missing_source_folder_at_first_start_is_a_warning_and_offline_git_a_notice(tmp_path: Path, caplog,
                                                                                      monkeypatch):
    from app import ensure_index
    from tests.ingest.test_pipeline import offline

    offline(monkeypatch)
    snapshot = make_site(tmp_path / "snapshot", {"a.md": "Styregruppen mødes fire gange om året."})
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "væk"\npath = "{tmp_path / "gone"}"\n\n'
                       f'[[source]]\nname = "live"\ngit = "https://github.com/os2/live-docs.git"\nsnapshot = "{snapshot}"\n')
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", sources_file=sources)
    with caplog.at_level("INFO"):
        ensure_index(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"folder {tmp_path / 'gone'} does not exist — fix its 'path' in {sources}" in w for w in warnings)
    assert not any("live" in w and "snapshot" in w for w in warnings)
    notices = [r.getMessage() for r in caplog.records if r.levelname == "INFO" and "reading the snapshot" in r.getMessage()]
    assert notices and all("FAILED" not in n for n in notices)
    assert open_catalog(settings).sources() == {"live": 1}


def test_the_user_guide_is_served_at_the_anchors_its_citations_open(tmp_path: Path):
    from urllib.parse import unquote, urlsplit

    from fastapi.testclient import TestClient

    from app import create_app
    from assistant.sites.sources import load_sources
    from ingest.pipeline import ingest
    from tests.conftest import REPO

    [guide] = [s for s in load_sources(REPO / "corpus" / "sources.toml") if s.name == "brugervejledning"]
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache",
                        public_url="https://assistent.kommune.dk")
    report = ingest(settings, [guide], progress=False)
    assert not report.sources[0].warnings  # a published URL: the app's own address
    chunks = [c for _, c in open_catalog(settings).chunks()]
    with TestClient(create_app(settings, feedback_db=tmp_path / "feedback.sqlite")) as client:
        for chunk in chunks:
            assert chunk.url.startswith("https://assistent.kommune.dk/guide/"), chunk.url
            page = client.get(urlsplit(chunk.url).path)
            assert page.status_code == 200 and '<html lang="da">' in page.text, chunk.url
            if chunk.anchor:
                assert f'id="{unquote(urlsplit(chunk.url).fragment)}"' in page.text, chunk.url
        front = client.get("/guide/").text
        assert 'href="/guide/docs/opdatering.html"' in front  # a link to a .md page leads to its page
        assert client.get("/guide/docs/none.html").status_code == 404
        answer = client.post("/api/ask", json={"question": "Hvordan opdaterer jeg indholdet efter en ændring?"}).json()
        cited = answer["citations"][0]["url"]
        assert answer["answered"] and "genindlæsning" in answer["answer"]
        assert client.get(urlsplit(cited).path).status_code == 200 and cited.startswith("https://assistent.kommune.dk/guide/")


def test_a_new_address_of_the_app_re_ingests_the_site_it_serves_at_start(tmp_path: Path, caplog):
    from app import ensure_index
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    guide = tmp_path / "guide"
    guide.mkdir()
    (guide / "a.md").write_text("---\ntitle: A\n---\n# Genindlæsning\nKlik på knappen.\n", encoding="utf-8")
    first = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", port=7860)
    ingest(first, [SourceSpec(name="guide", path=guide, site_url="/guide/")], progress=False)
    assert {c.url for _, c in open_catalog(first).chunks()} == {"http://127.0.0.1:7860/guide/a.html#genindlæsning"}
    ensure_index(first)  # the same address: nothing to do
    moved = first.model_copy(update={"public_url": "https://assistent.kommune.dk"})
    with caplog.at_level("INFO"):
        ensure_index(moved)
    assert "the app's address is now https://assistent.kommune.dk: re-ingesting guide" in caplog.text
    assert {c.url for _, c in open_catalog(moved).chunks()} == {"https://assistent.kommune.dk/guide/a.html#genindlæsning"}
