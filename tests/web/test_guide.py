import os
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.web import guide
from assistant.web.guide import build_guide_router

FRONT = "---\ntitle: {t}\n---\n# {t}\nTekst om {t}.\n"


def client_for(root: Path) -> TestClient:
    app = FastAPI()
    app.include_router(build_guide_router([("/guide/", root, "guide")]))
    return TestClient(app)


def test_a_page_with_published_false_is_not_served_nor_listed(tmp_path: Path):
    (tmp_path / "index.md").write_text(FRONT.format(t="Forside"), encoding="utf-8")
    (tmp_path / "hemmelig.md").write_text("---\ntitle: Hemmelig\npublished: false\n---\nIkke udgivet.\n", encoding="utf-8")
    client = client_for(tmp_path)
    assert client.get("/guide/hemmelig.html").status_code == 404
    assert "Hemmelig" not in client.get("/guide/").text


def test_a_file_name_that_is_not_utf8_does_not_stop_the_guide(tmp_path: Path):
    (tmp_path / "index.md").write_text(FRONT.format(t="Forside"), encoding="utf-8")
    write_bytes_named(tmp_path, b"caf\xe9.md", FRONT.format(t="Cafe").encode())
    client = client_for(tmp_path)
    front = client.get("/guide/")
    assert front.status_code == 200 and "Forside" in front.text and "Cafe" not in front.text
    assert client.get("/guide/caf%E9.html").status_code == 404


def write_bytes_named(root: Path, name: bytes, data: bytes) -> None:
    """A file whose name is these bytes (not necessarily UTF-8)."""
    with open(os.path.join(os.fsencode(root), name), "wb") as file:
        file.write(data)


def counting_scans(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    scan = guide.ServedSite.scan

    def counted(site: guide.ServedSite) -> None:
        calls.append(1)
        scan(site)

    monkeypatch.setattr(guide.ServedSite, "scan", counted)
    return calls


def test_missing_pages_do_not_scan_the_site_again_while_its_folders_are_unchanged(tmp_path: Path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(FRONT.format(t="A"), encoding="utf-8")
    old = time.time() - 60
    for folder in (tmp_path, tmp_path / "docs"):
        os.utime(folder, (old, old))
    scans = counting_scans(monkeypatch)
    client = client_for(tmp_path)
    for n in range(20):
        assert client.get(f"/guide/docs/none-{n}.html").status_code == 404
    assert client.get("/guide/docs/a.html").status_code == 200
    assert len(scans) == 1  # at start only


def test_a_page_added_after_start_is_served(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(FRONT.format(t="A"), encoding="utf-8")
    old = time.time() - 60
    os.utime(tmp_path / "docs", (old, old))
    client = client_for(tmp_path)
    assert client.get("/guide/docs/b.html").status_code == 404
    (tmp_path / "docs" / "b.md").write_text(FRONT.format(t="B"), encoding="utf-8")
    assert client.get("/guide/docs/b.html").status_code == 200


def test_a_collection_document_is_served_at_its_permalink(tmp_path: Path):
    (tmp_path / "_config.yml").write_text("collections:\n  news:\n    output: true\n    permalink: /nyt/:title/\n")
    (tmp_path / "_news").mkdir()
    (tmp_path / "_news" / "leverandor.md").write_text(FRONT.format(t="Ny leverandør"), encoding="utf-8")
    assert "Ny leverandør" in client_for(tmp_path).get("/guide/nyt/leverandor/").text
