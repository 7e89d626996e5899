import time
from pathlib import Path

import pytest

from ingest.html_text import html_to_text
from ingest.parse import parse_markdown_file, parse_sections

PAGE = b"""---
title: "Side"
parent: "Forside"
---

\xf0\x9f\x93\x86 _sidst opdateret: {{ site.time | date: '%B %d, %Y' }}_

# Overskrift
{% include nav.html %}
Tekst med [et link](https://example.org/x) og {{ page.title }} midt i en lang nok linje her.

<!-- en skjult kommentar -->

> #### 2. Temaer
> Citeret tekst.

## Eget id
{: #mit-id}
Mere.
"""


def test_liquid_html_comments_and_boilerplate_do_not_reach_the_text():
    parsed = parse_markdown_file(PAGE, "side.md")
    text = "\n".join(b for s in parsed.sections for b in s.blocks)
    assert "{{" not in text and "{%" not in text and "site.time" not in text
    assert "skjult" not in text
    assert "sidst opdateret" not in text
    assert "Tekst med et link og midt i en lang nok linje her." in text


def test_link_text_stays_and_targets_are_kept_as_metadata():
    parsed = parse_markdown_file(PAGE, "side.md")
    assert parsed.links == ["https://example.org/x"]


def test_headings_inside_blockquotes_count_and_ial_sets_the_id():
    parsed = parse_markdown_file(PAGE, "side.md")
    headings = [(s.heading.text, s.heading.anchor) for s in parsed.sections if s.heading]
    assert headings == [("Overskrift", "overskrift"), ("2. Temaer", "2-temaer"), ("Eget id", "mit-id")]


def test_front_matter_title_wins_and_heading_path_nests():
    parsed = parse_markdown_file(PAGE, "side.md")
    assert parsed.title == "Side"
    temaer = parsed.sections[2]
    assert [h.text for h in temaer.path] == ["Overskrift", "2. Temaer"]


def test_invalid_front_matter_warns_with_line_and_keeps_the_body():
    data = b"---\ntitle: ok\nparent: [broken\n---\n# Krop\nTeksten er her.\n"
    parsed = parse_markdown_file(data, "bad.md")
    assert any("bad.md" in w and "line" in w for w in parsed.warnings)
    assert parsed.front_matter == {}
    assert parsed.sections[-1].blocks == ["Teksten er her."]


def test_page_without_headings_is_one_section_before_any_heading():
    parsed = parse_markdown_file(b"---\ntitle: Kort\n---\nBare tekst.\n", "kort.md")
    assert [(s.heading, s.blocks) for s in parsed.sections] == [(None, ["Bare tekst."])]


def test_page_that_is_only_front_matter_has_no_text():
    parsed = parse_markdown_file(b"---\ntitle: Tom side\n---\n", "tom.md")
    assert parsed.title == "Tom side"
    assert all(not s.blocks for s in parsed.sections)


def test_static_markdown_keeps_liquid_as_written():
    parsed = parse_markdown_file(b"# Titel\nBrug {{ variabel }} her.\n", "README.md")
    assert parsed.front_matter is None
    assert parsed.sections[1].blocks == ["Brug {{ variabel }} her."]


def test_table_rows_name_their_fields_from_the_header(tmp_path: Path):
    data = (b"---\ntitle: T\n---\n# Plan\n| Tid | Punkt | Beskrivelse | |\n|---|---|---|---|\n"
            b"| 12.00 - 12.45 | Frokost | Der er buffet i Kantinen | |\n")
    parsed = parse_markdown_file(data, "t.md")
    assert parsed.sections[1].blocks == ["Tid: 12.00 - 12.45; Punkt: Frokost; Beskrivelse: Der er buffet i Kantinen."]


def test_broken_link_syntax_emphasis_marks_and_task_boxes_are_not_text():
    body = ("# T\nSe (Roller i Mikro-Hackathonet)[https://github.com/x/y.md] og **fed* tekst[^1] og [note].\n\n"
            "- [ ] Funktionalitet er deploybar **\n\ncheck_notifications og clean_up_database.\n\n"
            "Navn: ____ og værdier uden _ foran.\n")
    blocks = parse_sections(body)[0][1].blocks
    assert blocks == ["Se Roller i Mikro-Hackathonet og fed tekst og note.", "- Funktionalitet er deploybar",
                      "check_notifications og clean_up_database.", "Navn: og værdier uden _ foran."]


def test_code_stays_fenced_and_diagrams_are_dropped():
    body = ("# T\n```bash\n# Make a backup\npg_dump x\n```\n\n```mermaid\nflowchart LR\n A --> B\n```\n")
    assert parse_sections(body)[0][1].blocks == ["```\n# Make a backup\npg_dump x\n```"]


def test_a_gantt_chart_becomes_its_tasks_and_dates():
    body = ("# T\n```mermaid\ngantt\n    dateFormat YYYY-MM-DD\n    title Årshjul 2027\n    section Formelle\n"
            "    Forårs samlingen :crit, des2, 2027-05-10, 2027-05-30\n    ___ : vert, v2, 2027-01-01,\n```\n")
    assert parse_sections(body)[0][1].blocks == ["Årshjul 2027:", "- Forårs samlingen (Formelle): 2027-05-10 – 2027-05-30"]


@pytest.mark.parametrize("opener", ["{% ", "{{ ", "<!-- ", "{% comment %}", "{% raw %}"])
def test_five_megabytes_of_unclosed_openers_parse_in_linear_time(opener: str):
    data = b"---\ntitle: x\n---\n" + opener.encode() * (5_000_000 // len(opener))
    started = time.perf_counter()
    parse_markdown_file(data, "x.md")
    assert time.perf_counter() - started < 5  # about a second; before: 10 s at 100 KB, 96 s at 200 KB


@pytest.mark.parametrize("markup", ["<a ", "<a x='", '<a x=">" ', "<!--", "<![", "</", "<?", "<script>"])
def test_a_megabyte_of_unclosed_html_parses_in_linear_time(markup: str):
    data = ("<div>\n" + markup * (1_000_000 // len(markup))).encode()
    started = time.perf_counter()
    parse_markdown_file(data, "x.md")
    assert time.perf_counter() - started < 5  # under a second; html.parser took 52 s for 50 KB of `<a `


def test_html_blocks_become_their_text():
    html = (
        '<table><tr><th>Navn</th><td title="a > b">Ø &amp; Å</td></tr></table>\n'
        '<script>var p = "<p>";</script><style>p{}</style>\n'
        '<p>Slut<br/>linje &lt;3</p><!-- note --><img alt="x"/>'
    )
    assert html_to_text(html) == "Navn | Ø & Å\nSlut\nlinje <3"


def test_malformed_html_declaration_is_text_and_the_page_goes_on():
    parsed = parse_markdown_file(b"<div>\n<![x y\n\nTekst efter.\n", "x.md")
    assert parsed.sections[0].blocks == ["<![x y", "Tekst efter."]


def test_unclosed_html_comment_leaves_the_rest_of_the_page_as_text_as_kramdown_does():
    parsed = parse_markdown_file(b"---\ntitle: x\n---\nF\xc3\xb8r.\n\n<!-- glemt\n\nSynlig <b>fed</b> tekst.\n", "x.md")
    assert "Synlig fed tekst." in "\n".join(parsed.sections[0].blocks)


def test_unclosed_liquid_ends_the_text_with_a_warning_naming_file_and_line():
    parsed = parse_markdown_file(b"---\ntitle: x\n---\nF\xc3\xb8r.\n\n{% include x\n\nEfter.\n", "x.md")
    assert parsed.sections[0].blocks == ["Før."]
    assert parsed.warnings == [
        "x.md: line 6: Liquid '{% include x' is never closed (Jekyll does not build such a page); "
        "the text from there on is not ingested"
    ]


def test_unclosed_liquid_inside_a_raw_block_is_text():
    data = b"---\ntitle: x\n---\n{% raw %}Skriv {{ for at starte{% endraw %}\n\nMere tekst her.\n"
    parsed = parse_markdown_file(data, "x.md")
    assert parsed.sections[0].blocks == ["Skriv {{ for at starte", "Mere tekst her."]
    assert parsed.warnings == []


@pytest.mark.timeout(60)
def test_front_matter_alias_bomb_is_refused_and_the_body_ingested():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    data = ("---\n" + "\n".join(lines) + "\ntitle: *a8\n---\n# Overskrift\nTekst.\n").encode()
    parsed = parse_markdown_file(data, "bomb.md")
    assert parsed.title == "Overskrift" and parsed.front_matter == {}
    assert any("bomb.md" in w and "aliases expand" in w for w in parsed.warnings)


def test_front_matter_nested_too_deeply_is_refused_and_the_body_ingested():
    parsed = parse_markdown_file(b"---\ntitle: " + b"[" * 100_000 + b"\n---\n# Overskrift\n", "dyb.md")
    assert parsed.title == "Overskrift"
    assert any("dyb.md" in w and "nested too deeply" in w for w in parsed.warnings)
