"""The Gradio chat's rendering and example questions (the chat in a browser: test_browser.py)."""

from types import SimpleNamespace

from assistant.models import Answer, Chunk, Citation
from assistant.web.chat import FALLBACK_EXAMPLES, example_questions, render, render_partial, render_sources

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


def citation(**changes) -> Citation:  # type: ignore[no-untyped-def]
    values = dict(n=1, title="OS2forms", breadcrumb="Produkter › OS2forms", heading="Kort opsummering",
                  url="https://docs.example/forms.html#kort", fragment_url="https://docs.example/forms.html#kort:~:text=Vedligehold",
                  snippet="Vedligehold af OS2forms …", score=0.9, source="docs", path="forms.md")
    values.update(changes)
    return Citation(**values)


def test_answer_renders_numbered_links_to_the_cited_section():
    html = render(Answer(text="Belcom leverer. [1]", answered=True, citations=[citation()]))
    assert '[1] <a href="https://docs.example/forms.html#kort:~:text=Vedligehold" target="_blank"' in html
    assert "OS2forms › Kort opsummering</a>" in html


def test_everything_from_pages_or_people_is_escaped():
    hostile = citation(title=HOSTILE, heading=HOSTILE, breadcrumb=HOSTILE, snippet=HOSTILE,
                       fragment_url='https://x/" onmouseover="alert(1)')
    answer = Answer(text=HOSTILE, answered=True, citations=[hostile], notice=HOSTILE)
    for html in (render(answer), render_sources(answer), render_partial(HOSTILE)):
        assert "<img" not in html and "<script" not in html and '" onmouseover' not in html


def test_citations_link_only_to_http_urls():
    script = citation(url="javascript:alert(1)", fragment_url="javascript:alert(1)")
    answer = Answer(text="…", answered=True, citations=[script])
    for html in (render(answer), render_sources(answer)):
        assert "javascript:" not in html and "<a " not in html and "OS2forms › Kort opsummering" in html


def test_sources_panel_shows_snippets_of_the_last_answer():
    panel = render_sources(Answer(text="…", answered=True, citations=[citation(), citation(n=2, title="OS2display")]))
    assert panel.count("<li>") == 2 and "Vedligehold af OS2forms …" in panel and "Produkter › OS2forms" in panel
    assert "Kilderne til det seneste svar" in render_sources(None)


def chunk(path: str, ordinal: int, heading: str) -> Chunk:
    return Chunk(source="docs", path=path, title=path, breadcrumb=(path,), headings=(heading,) if heading else (),
                 anchor="", url=f"https://docs.example/{path}", date="", text="tekst", ordinal=ordinal)


def test_examples_come_from_first_headings_that_the_assistant_answers():
    chunks = [chunk("a.md", 0, "Vedligehold af OS2forms"), chunk("a.md", 1, "Andet afsnit her"),
              chunk("b.md", 0, "Roadmap for 2026"), chunk("c.md", 0, 'layout: "default"'), chunk("d.md", 0, "Ubesvaret emne")]
    snapshot = SimpleNamespace(chunks={str(i): c for i, c in enumerate(chunks)})
    fake = SimpleNamespace(retriever=SimpleNamespace(snapshot=lambda: snapshot),
                           ask=lambda q: SimpleNamespace(answered="Ubesvaret" not in q))
    assert example_questions(fake) == ["Hvad står der om Vedligehold af OS2forms?", "Hvad står der om Roadmap for 2026?"]


def test_examples_fall_back_when_the_index_cannot_be_read():
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("no index")

    assert example_questions(SimpleNamespace(retriever=SimpleNamespace(snapshot=broken))) == FALLBACK_EXAMPLES
