from pathlib import Path

import pytest

from ingest.parse import ParseError, decode_markdown, parse_markdown_file
from tests.conftest import CORPUS, PRODUKTMODNING_OLD

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


def test_johab_mojibake_is_repaired_exactly():
    """The damaged copy is of a later revision (front matter differs); its body is the same text."""
    damaged = (CORPUS / "damaged" / "sekretariatsbisdand-mojibake.md").read_bytes()
    original = next(PRODUKTMODNING_OLD.rglob("sekretariatsbisdand.md")).read_text(encoding="utf-8")
    text, warnings = decode_markdown(damaged, "damaged.md")
    body = text.split("\n---\n", 1)[1]
    assert body.rstrip() == original.split("\n---\n", 1)[1].rstrip()
    assert "økonomi" in body.lower() or "ø" in body
    assert warnings


def test_utf8_bom_is_removed():
    text, _ = decode_markdown("\ufeff# Øl".encode(), "bom.md")
    assert text == "# Øl"


def test_windows_1252_text_is_read_with_a_warning():
    text, warnings = decode_markdown("# Målsætning".encode("cp1252"), "ansi.md")
    assert text == "# Målsætning" and "Windows-1252" in warnings[0]


def test_binary_file_is_refused_with_its_name():
    with pytest.raises(ParseError, match="logo.md"):
        decode_markdown(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.md")


def test_huge_file_is_refused_with_its_size():
    with pytest.raises(ParseError, match="huge.md: 50.0 MB"):
        decode_markdown(b"a" * 50_000_000, "huge.md")


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


def test_tables_become_rows_of_cells(tmp_path: Path):
    data = b"---\ntitle: T\n---\n# Plan\n| Tid | Punkt |\n|---|---|\n| 10:00 | Velkomst |\n"
    parsed = parse_markdown_file(data, "t.md")
    assert parsed.sections[1].blocks == ["Tid | Punkt", "10:00 | Velkomst"]
