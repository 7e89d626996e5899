"""How much of a question the passages cover: term weights, unknown words, names and the kind of
fact asked for, on a small hand-made index."""

from __future__ import annotations

import pytest

from assistant.answer.evidence import UNKNOWN_FLOOR, QueryEvidence, unknown_weight
from assistant.models import Chunk
from assistant.retrieve.danish_analyzer import DanishAnalyzer
from assistant.retrieve.lexical import LexicalIndex
from assistant.retrieve.retriever import Passage, Snapshot, top_headings

PAGES = {
    "cykel": ("Cykelparkering", ("Cykelparkering", "Priser"),
              "En plads i cykelkælderen koster 150 kr. om måneden. Nøglebrik udleveres i receptionen."),
    "kantine": ("Kantinen", ("Kantinen", "Åbningstider"), "Kantinen har åbent fra 11.30 til 13.00 på hverdage."),
    "moede": ("Mødelokaler", ("Booking",), "Lokaler bookes i Outlook Kalender af den enkelte medarbejder."),
    "tal": ("Status", ("Status",), "Projektet har i dag 12 deltagere og 3 workshops bag sig."),
}


def chunk(key: str) -> Chunk:
    title, headings, text = PAGES[key]
    return Chunk(source="s", path=f"{key}.md", title=title, breadcrumb=(title,), headings=headings, anchor="",
                 url=f"https://x.dk/{key}/", date="", text=text, ordinal=0)


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    chunks = {key: chunk(key) for key in PAGES}
    filler = {f"f{i}": Chunk("s", f"f{i}.md", f"Side {i}", (), ("Afsnit",), "", "u", "", f"Andet emne {i} om vejret.", 0)
              for i in range(12)}
    every = chunks | filler  # unrelated passages, so that IDF means something
    analyzer = DanishAnalyzer(c.embed_text for c in every.values())
    lexical = LexicalIndex(list(every), [c.embed_text for c in every.values()], analyzer)
    return Snapshot(1, every, lexical, analyzer, len(every), None, top_headings=top_headings(every.values()))


def test_everyday_unknown_words_weigh_less_than_rare_ones():
    assert unknown_weight(0.5) == 1.0
    assert unknown_weight(4.0) == pytest.approx(0.4)
    assert unknown_weight(7.0) == UNKNOWN_FLOOR


def test_a_passage_with_the_questions_words_covers_it(snapshot: Snapshot):
    evidence = QueryEvidence("Hvornår har kantinen åbent?", snapshot)
    assert evidence.coverage_of(chunk("kantine").embed_text) > 0.6
    assert evidence.coverage_of(chunk("cykel").embed_text) < 0.2
    passages = [Passage("cykel", chunk("cykel"), 1.0), Passage("kantine", chunk("kantine"), 0.9)]
    assert evidence.best_coverage(passages) == evidence.coverage_of(chunk("kantine").embed_text)
    assert evidence.best_coverage(passages, top=1) < 0.2


def test_a_word_the_pages_never_use_is_the_unknown_share(snapshot: Snapshot):
    known = QueryEvidence("Hvad koster cykelparkering?", snapshot)
    unknown = QueryEvidence("Hvad koster elbilopladning?", snapshot)
    assert known.unknown_share == 0.0
    assert unknown.unknown_share > 0.3


def test_a_typo_counts_as_the_word_it_corrects(snapshot: Snapshot):
    evidence = QueryEvidence("Hvornår har kantinnen åbent?", snapshot)
    assert evidence.unknown_share == 0.0
    assert evidence.coverage_of(chunk("kantine").embed_text) > 0.6


def test_which_x_is_unknown_when_the_pages_never_name_x(snapshot: Snapshot):
    assert QueryEvidence("Hvilket kaffemærke bruger kantinen?", snapshot).unknown_focus == "kaffemærke"
    assert QueryEvidence("Hvilke lokaler kan bookes?", snapshot).unknown_focus is None
    assert QueryEvidence("Hvornår åbner kantinen?", snapshot).unknown_focus is None  # no "hvilken"


def test_a_name_no_passage_holds_is_unknown_but_capitals_of_style_are_not(snapshot: Snapshot):
    assert QueryEvidence("Kan lokaler bookes i Google Workspace?", snapshot).unknown_name == "Google Workspace"
    assert QueryEvidence("Bookes lokaler i Outlook Kalender?", snapshot).unknown_name is None
    assert QueryEvidence("HVEM ER ANSVARLIG FOR GOOGLE WORKSPACE?", snapshot).unknown_name is None


def test_the_kind_of_fact_must_be_stated_about_the_subject(snapshot: Snapshot):
    price = QueryEvidence("Hvad koster en plads i cykelkælderen?", snapshot)
    assert price.states_expected(chunk("cykel"))
    assert not price.states_expected(chunk("kantine"))  # times, no amount of money
    count = QueryEvidence("Hvor mange deltagere har kantinen?", snapshot)
    assert not count.states_expected(chunk("tal"))  # a count of participants, but not of the canteen's
    assert QueryEvidence("Hvor mange deltagere har projektet?", snapshot).states_expected(chunk("tal"))
    assert QueryEvidence("Hvor bookes lokaler?", snapshot).states_expected(chunk("moede"))  # no particular kind


@pytest.mark.parametrize(("follow_up", "kind"), [
    ("Hvem booker lokalerne?", None),  # its own question word: not the date the question before asked for
    ("Og hvad koster den?", "price"),  # its own kind
    ("Og for kantinen?", "when"),  # no question word: it asks what the question before asked
    ("Hvad med kantinen?", "when"),
    ("What about the canteen?", "when"),
])
def test_a_follow_up_judged_with_the_words_it_carries_asks_its_own_kind_of_fact(snapshot: Snapshot, follow_up, kind):
    carried = f"{follow_up} Hvornår åbner cykelkælderen?"  # the previous question's words, carried over
    evidence = QueryEvidence(carried, snapshot, asks=follow_up)
    assert (evidence.expectation.kind if evidence.expectation else None) == kind
    if kind is None:  # judged on all of the text, it would want a time and decline
        assert QueryEvidence(carried, snapshot).expectation.kind == "when"


CALENDAR = "user_manual/slide_templates/calendar.md"


def calendar_chunk(headings: tuple[str, ...], text: str, ordinal: int) -> Chunk:
    return Chunk(source="d", path=CALENDAR, title="Kalender", breadcrumb=("Kalender",), headings=headings, anchor="",
                 url="https://x.dk/kalender/", date="", text=text, ordinal=ordinal)


@pytest.fixture(scope="module")
def calendar() -> Snapshot:
    chunks = {
        "intro": calendar_chunk(("Kalender",), "Kalenderskabelonen bruges til at vise, hvad der foregår i lokaler. "
                                "Kalender-skabelonen henter data fra en datakilde.", 0),
        "layout": calendar_chunk(("Kalender", "Layout"), "Der er fire tilgængelige layout:\nEnkelt lokale\n"
                                 "Viser nuværende og kommende bookings af et lokale.", 1),
        "status": calendar_chunk(("Kalender", "Status"), "Status:\n- Udvikling\n- Tre layout er i test.", 2),
    } | {f"f{i}": Chunk("s", f"f{i}.md", f"Side {i}", (), ("Afsnit",), "", "u", "", f"Andet emne {i} om vejret.", 0)
         for i in range(12)}
    analyzer = DanishAnalyzer(c.embed_text for c in chunks.values())
    lexical = LexicalIndex(list(chunks), [c.embed_text for c in chunks.values()], analyzer)
    return Snapshot(1, chunks, lexical, analyzer, len(chunks), None, top_headings=top_headings(chunks.values()))


def test_a_count_in_the_section_named_by_what_it_counts_is_about_the_pages_subject(calendar: Snapshot):
    """"Der er fire tilgængelige layout" under "Layout" on the page "Kalender" answers how many layouts
    the calendar template has; a count of layouts under another section ("Status") still does not."""
    evidence = QueryEvidence("Hvor mange layout har kalenderskabelonen?", calendar)
    assert evidence.states_expected(calendar.chunks["layout"])
    assert not evidence.states_expected(calendar.chunks["status"])
