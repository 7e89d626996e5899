"""Page furniture never reaches the reader text (issue 24): kramdown attribute lists, empty table
cells, image alt texts, captions and link lines, editors' placeholders and notes. One page under
tests/ingest/furniture/ for each kind; lists keep their order."""

from pathlib import Path

from ingest.parse import parse_markdown_file

PAGES = Path(__file__).parent / "furniture"


def blocks(name: str) -> list[str]:
    parsed = parse_markdown_file((PAGES / name).read_bytes(), name)
    return [b for s in parsed.sections for b in s.blocks]


def sections(name: str) -> dict[str, list[str]]:
    parsed = parse_markdown_file((PAGES / name).read_bytes(), name)
    return {s.heading.text: s.blocks for s in parsed.sections if s.heading}


def test_attribute_lists_after_links_and_spans_are_not_text():
    text = blocks("attribute_lists.md")
    assert text == ["Fejl indberettes som issues på Github.", "OS2Display Issue Tracker",
                    "Opret et issue i trackeren med en beskrivelse.", "Se også vejledningen for detaljer."]


def test_a_table_with_an_unnamed_column_is_read_as_labels_and_values():
    text = blocks("empty_cells.md")
    assert text[:3] == ["Fakta om skabelonen:", "Systemnavn: travel.", "Kræver OS2Display datakilde: Nej."]


def test_table_rows_with_nothing_but_a_label_are_left_out():
    text = blocks("empty_cells.md")
    assert not any(b.startswith("Noter") or "Undertitel" in b for b in text)
    assert "Felt: Titel; Beskrivelse: Vises øverst." in text
    assert not any(":;" in b or b.endswith(":.") for b in text)


def test_image_alt_text_is_no_sentence():
    text = blocks("alt_text.md")
    assert text == ["Skabelonen viser et billede med logo og tekst.", "Klik på knappen for at tilføje en slide."]


def test_captions_end_as_sentences_and_link_lines_and_figure_labels_go():
    text = blocks("captions.md")
    assert text == ["Et Linux-baseret system der kan installeres på computere med 64-bit Intel/AMD-arkitektur.",
                    "Benyttes i Ringkøbing-Skjern Kommune."]


def test_editor_placeholders_and_notes_never_reach_a_sentence():
    text = "\n".join(blocks("placeholders.md"))
    for note in ("INDSÆT", "Mangler beskrivelse", "Hvordan foregår det", "TODO", "todo", "Kommer snart", "xxx"):
        assert note not in text, note
    assert "Man skal have en aftale med Rejseplanen." in text
    assert "Under temaer kan man oprette og redigere temaer." in text


def test_a_section_that_is_only_a_placeholder_has_no_text():
    found = sections("placeholders.md")
    assert found["Colibo"] == [] and found["Sikkerhed"] == [] and found["Nyheder"] == [] and found["Skærme"] == []
    assert found["Møde beskrivelse"] == []  # a template's instruction to whoever fills it in
    assert found["CalendarApi"] == ["Feed Output Model: Calendar"]


def test_lists_keep_their_order_and_items_starting_with_a_number():
    text = blocks("ordered_list.md")
    assert text == ["En kampagne består af:", "- et navn og en beskrivelse",
                    "- eller flere slides, som skal være oprettet, før kampagnen oprettes",
                    "Trin:", "- Opret kampagnen", "- 2 skærme vælges", "- Tre slides tilføjes"]
