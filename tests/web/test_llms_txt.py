"""/llms.txt, /llms-full.txt and /llms/{source}.txt of the real app over an index of two small sites."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tests.two_sites import NEW_PAGE, add_page_and_reingest, build_two_sites, write_sources

# llmstxt.org: "# title", an optional "> summary", optional details, then "## section" with lists of links
LINK = re.compile(r"^- \[(?P<title>(?:[^\]\\]|\\.)+)\]\((?P<url>[^()\s]+)\)(?:: (?P<notes>\S.*))?$")


def parse_llms_txt(text: str) -> dict:
    """The parts of an llms.txt file, asserting the format on the way."""
    assert text.endswith("\n") and "\r" not in text
    lines = text.rstrip("\n").split("\n")
    assert lines[0].startswith("# ") and len(lines[0]) > 2, lines[0]
    parsed: dict = {"title": lines[0][2:], "summary": None, "details": [], "sections": {}}
    section: list | None = None
    for line in lines[1:]:
        assert not line.startswith("# "), f"a second H1: {line}"
        if not line.strip():
            continue
        if line.startswith("## "):
            assert line[3:] not in parsed["sections"], f"section twice: {line}"
            section = parsed["sections"][line[3:]] = []
        elif section is not None:
            match = LINK.match(line)
            assert match, f"not a '- [title](url): notes' line: {line}"
            section.append((match["title"], match["url"], match["notes"]))
        elif line.startswith("> ") and parsed["summary"] is None and not parsed["details"]:
            parsed["summary"] = line[2:]
        else:
            assert not line.startswith(("#", "- [")), line
            parsed["details"].append(line)
    return parsed


def links(parsed: dict) -> list[str]:
    return [unquote(url) for entries in parsed["sections"].values() for _, url, _ in entries]


def index_page_urls(index_dir: Path) -> set[str]:
    with sqlite3.connect(index_dir / "catalog.sqlite") as db:
        return {url for (url,) in db.execute("SELECT url FROM pages")}


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory, embedding_cache: Path):  # type: ignore[no-untyped-def]
    return build_two_sites(tmp_path_factory.mktemp("llms-sites"), embedding_cache)


@pytest.fixture(scope="module")
def client(two_sites, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from app import create_app

    settings, _ = two_sites
    with TestClient(create_app(settings, feedback_db=tmp_path_factory.mktemp("llms-app") / "feedback.sqlite")) as c:
        yield c


def test_llms_txt_follows_the_format(client):
    reply = client.get("/llms.txt")
    assert reply.status_code == 200 and reply.headers["content-type"] == "text/plain; charset=utf-8"
    parsed = parse_llms_txt(reply.text)
    assert parsed["title"] == "Kommunens selvbetjening · Skoleintra hjælp"
    assert "Kommunens selvbetjening: Vejledninger til kommunens selvbetjeningsløsninger." in parsed["summary"]
    assert parsed["sections"]


def test_every_link_is_a_page_of_the_index_and_every_page_is_linked(client, two_sites):
    settings, _ = two_sites
    linked = links(parse_llms_txt(client.get("/llms.txt").text))
    assert len(linked) == len(set(linked))
    assert set(linked) == index_page_urls(settings.index_dir)


def test_pages_are_grouped_by_breadcrumb_with_their_first_sentence(client):
    sections = parse_llms_txt(client.get("/llms/kommune.txt").text)["sections"]
    assert list(sections) == ["Sider", "Affald"]
    assert sections["Sider"] == [("Forside", "https://kommune.example.dk/",
                                  "Her finder du vejledninger til kommunens selvbetjening.")]
    assert [title for title, _, _ in sections["Affald"]] == ["Affald", "Haveaffald"]
    assert sections["Affald"][1][2] == "Haveaffald afhentes fra april til november."


def test_each_source_has_its_own_file_when_there_are_several(client):
    kommune = parse_llms_txt(client.get("/llms/kommune.txt").text)
    skole = parse_llms_txt(client.get("/llms/skole.txt").text)
    assert kommune["title"] == "Kommunens selvbetjening"
    assert kommune["summary"] == "Vejledninger til kommunens selvbetjeningsløsninger."
    assert all(url.startswith("https://kommune.example.dk/") for url in links(kommune))
    assert all(url.startswith("https://skole.example.dk/") for url in links(skole)) and len(links(skole)) == 3
    assert "llms/kommune.txt" in " ".join(parse_llms_txt(client.get("/llms.txt").text)["details"])
    assert client.get("/llms/findes-ikke.txt").status_code == 404


def test_the_full_file_has_every_pages_clean_text(client):
    full = client.get("/llms/kommune-full.txt").text
    assert full.startswith("# Kommunens selvbetjening\n\n> Vejledninger")
    assert "\n## Affald\n\nKilde: https://kommune.example.dk/docs/affald.html\n\nSådan bestiller du afhentning" in full
    assert "\n### Storskrald\n\nStorskrald hentes hver anden tirsdag." in full
    assert "Haveaffald afhentes fra april til november." in full
    assert "{%" not in full and "nav_order" not in full  # Liquid and front matter are not page text
    everything = client.get("/llms-full.txt").text
    assert "Kilde: https://skole.example.dk/docs/login.html" in everything and "Haveaffald afhentes" in everything


def test_llms_txt_changes_after_a_reingest_that_adds_a_page(two_sites, tmp_path):
    from app import create_app

    settings, kommune = two_sites
    site = shutil.copytree(kommune, tmp_path / "kommune-site")
    shutil.copytree(settings.index_dir, tmp_path / "index")
    copy = settings.model_copy(update={"index_dir": tmp_path / "index", "sources_file": write_sources(tmp_path, site)})
    with TestClient(create_app(copy, feedback_db=tmp_path / "feedback.sqlite")) as app:
        before = app.get("/llms.txt").text
        add_page_and_reingest(copy, site)
        after = app.get("/llms.txt").text
        full = app.get("/llms-full.txt").text
    new_url = "https://kommune.example.dk/docs/affald/farligt-affald.html"
    assert new_url not in before
    assert ("Farligt affald", new_url, "Farligt affald som maling og batterier afleveres på genbrugspladsen i den røde "
            "container.") in parse_llms_txt(after)["sections"]["Kommunens selvbetjening › Affald"]
    assert set(links(parse_llms_txt(after))) == index_page_urls(copy.index_dir)
    assert NEW_PAGE[1].split("\n")[-2] in full  # the new page's text
