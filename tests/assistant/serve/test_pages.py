"""Pages put back together from their chunks, and finding one by URL, path or resource URI."""

from __future__ import annotations

from assistant.models import Chunk
from assistant.serve.pages import DocPage, find_pages, home_page, pages_from_chunks

BASE = "https://docs.example.dk/docs/affald.html"


def chunk(path: str, ordinal: int, headings: tuple[str, ...], anchor: str, text: str, title: str = "Affald",
          source: str = "kommune") -> Chunk:
    url = f"https://docs.example.dk/{path.removesuffix('.md')}.html"
    return Chunk(source=source, path=path, title=title, breadcrumb=(title,), headings=headings, anchor=anchor,
                 url=f"{url}#{anchor}" if anchor else url, date="", text=text, ordinal=ordinal)


def affald() -> list[Chunk]:
    return [chunk("docs/affald.md", 0, ("Affald",), "affald", "Sådan bestiller du afhentning."),
            chunk("docs/affald.md", 1, ("Affald", "Storskrald"), "storskrald", "Storskrald hentes hver tirsdag."),
            chunk("docs/affald.md", 2, ("Affald", "Storskrald"), "storskrald", "Bestil senest fredag."),
            chunk("docs/affald.md", 3, ("Affald", "Storskrald", "Møbler"), "møbler", "Møbler er storskrald.")]


def test_a_page_with_an_h1_keeps_its_heading_levels():
    (page,) = pages_from_chunks(affald())
    assert page.url == BASE
    assert page.markdown == ("# Affald\n\nSådan bestiller du afhentning.\n\n## Storskrald\n\nStorskrald hentes hver "
                             "tirsdag.\n\nBestil senest fredag.\n\n### Møbler\n\nMøbler er storskrald.\n")
    assert [(s.heading, s.level, s.url) for s in page.sections] == [
        ("Affald", 1, f"{BASE}#affald"), ("Storskrald", 2, f"{BASE}#storskrald"), ("Møbler", 3, f"{BASE}#møbler")]


def test_a_page_without_an_h1_gets_its_title_as_one():
    chunks = [chunk("docs/faq.md", 0, (), "", "Korte svar.", title="FAQ"),
              chunk("docs/faq.md", 1, ("Hvorfor?",), "hvorfor", "Derfor.", title="FAQ")]
    (page,) = pages_from_chunks(chunks)
    assert page.markdown == "# FAQ\n\nKorte svar.\n\n## Hvorfor?\n\nDerfor.\n"


def test_a_page_without_text_is_its_title():
    (page,) = pages_from_chunks([chunk("tom.md", 0, (), "", "Tom side", title="Tom side")])
    assert page.markdown == "# Tom side\n" and page.summary == ""


def test_the_summary_is_the_first_sentence_of_prose():
    chunks = [chunk("a.md", 0, ("A",), "a", "```\nmake\n```\n- Først dette. Så det.", title="A")]
    assert pages_from_chunks(chunks)[0].summary == "Først dette."


def pages() -> list[DocPage]:
    other = [Chunk(source="andet", path="docs/affald.md", title="Affald", breadcrumb=("Affald",), headings=(), anchor="",
                   url="https://andet.example.dk/docs/affald.html", date="", text="En anden kilde.", ordinal=0)]
    return pages_from_chunks([*affald(), chunk("index.md", 0, (), "", "Forsiden.", title="Forside"), *other])


def test_a_page_is_found_by_its_url_with_or_without_anchor_and_encoding():
    for reference in (BASE, f"{BASE}#storskrald", "https://docs.example.dk/docs/affald", f"{BASE}?q=1",
                      "https://DOCS.example.dk/docs/affald.html", "https://docs.example.dk/docs/affald.html#m%C3%B8bler"):
        found = find_pages(pages(), reference)
        assert [(p.source, p.path) for p in found] == [("kommune", "docs/affald.md")], reference


def test_a_path_in_two_sources_finds_both_unless_the_source_is_named():
    assert {p.source for p in find_pages(pages(), "docs/affald.md")} == {"kommune", "andet"}
    assert [p.source for p in find_pages(pages(), "andet:docs/affald.md")] == ["andet"]
    assert [p.source for p in find_pages(pages(), "docs://andet/docs/affald.md")] == ["andet"]


def test_nothing_outside_the_index_is_found():
    for reference in ("../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "docs://kommune/../index.md",
                      "https://evil.example/docs/affald.html", "", "   "):
        assert find_pages(pages(), reference) == [], reference


def test_the_home_page_is_the_index_page():
    home = home_page(pages())
    assert home is not None and home.path == "index.md"
