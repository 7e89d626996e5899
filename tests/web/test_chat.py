"""The Gradio chat's rendering and example questions (the chat in a browser: test_browser.py)."""

from assistant.models import Answer, Citation
from assistant.web import texts
from assistant.web.chat import example_updates, render, render_partial, render_sources

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
    assert f"<h3>{texts.MAYBE_RELEVANT}</h3>" in render_sources(Answer(text="…", answered=False, citations=[citation()]))


def test_a_citation_without_a_site_address_shows_title_and_path_as_text():
    relative = citation(url="/docs/drift/cron-jobs.html#kør-jobs-manuelt", fragment_url="/docs/drift/cron-jobs.html#kør",
                        path="docs/drift/cron-jobs.md")
    nowhere = citation(url="", fragment_url="", path="docs/drift/backup.md")
    answer = Answer(text="…", answered=True, citations=[relative, nowhere])
    for html in (render(answer), render_sources(answer)):
        assert "<a " not in html and "href" not in html
        assert "OS2forms › Kort opsummering (/docs/drift/cron-jobs.html)" in html
        assert "OS2forms › Kort opsummering (docs/drift/backup.md)" in html


def test_unused_example_buttons_are_hidden():
    section, *buttons = example_updates(["Hvad er OS2forms?", "Hvem leverer vedligeholdelsen?"], 3)
    assert section["visible"] is True
    assert [b.get("value") for b in buttons] == ["Hvad er OS2forms?", "Hvem leverer vedligeholdelsen?", None]
    assert [b["visible"] for b in buttons] == [True, True, False]


def test_without_examples_the_section_is_hidden():
    section, *buttons = example_updates([], 2)
    assert section["visible"] is False and all(b["visible"] is False for b in buttons)
