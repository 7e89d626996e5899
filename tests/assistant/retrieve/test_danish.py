"""Danish analysis: folding, stop words, stemming, compounds, apostrophe inflections and synonyms."""

from __future__ import annotations

import pytest

from assistant.retrieve.danish import STOPWORDS, fold, tokenize
from assistant.retrieve.danish_analyzer import DanishAnalyzer, _synonyms


@pytest.fixture(scope="module")
def analyzer() -> DanishAnalyzer:
    return DanishAnalyzer()


# --- folding, tokens and stop words (danish.py) ---------------------------------------------------


def test_folding_makes_the_spellings_without_diacritics_one_string():
    assert fold("målsætning") == fold("maalsaetning") == fold("malsatning") == "malsatning"
    assert fold("café") == "cafe"  # other Latin marks are dropped


def test_tokens_are_lower_case_words_without_the_inflection_after_an_apostrophe():
    assert tokenize("Hvor er PC'erne, OS2forms_2026?") == ["hvor", "er", "pc", "os2forms", "2026"]


def test_stop_words_hold_every_typed_spelling_but_not_a_content_word():
    assert {"på", "paa", "pa", "hvornår", "hvornaar", "hvornar", "være", "vaere"} <= STOPWORDS
    assert "vare" not in STOPWORDS  # folded "være", but also a word of its own (goods)


# --- analysis (danish_analyzer.py) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ("målsætning", "maalsaetning", "malsatning", "MÅLSÆTNING"),
        ("netværk", "netvaerk", "netvark"),
        ("gøres", "goeres", "gores"),
        ("Århus", "Aarhus", "Arhus"),
    ],
)
def test_spellings_with_and_without_diacritics_give_identical_terms(analyzer, spellings):
    terms = [analyzer.analyze(s) for s in spellings]
    assert terms[0], spellings[0]
    assert all(t == terms[0] for t in terms), dict(zip(spellings, terms, strict=True))


def test_stop_words_are_removed_in_every_spelling(analyzer):
    assert analyzer.analyze("og i på paa pa af det hvornår hvornaar være vaere the of") == []


def test_content_words_survive_stop_word_removal(analyzer):
    assert analyzer.analyze("Hvad er det for en målsætning?") == analyzer.analyze("målsætning")
    assert analyzer.analyze("vare") != []  # "være" folds to "vare" (goods), which is a content word


def test_digits_and_mixed_tokens_are_kept(analyzer):
    terms = analyzer.analyze("OS2forms version 3 fra 2026")
    assert terms[0].startswith("os2form")  # one term for the product name, digits and all
    assert {*analyzer.analyze("forms"), "3", "2026"} <= set(terms)


@pytest.mark.parametrize("forms", [("kommune", "kommuner", "kommunerne"), ("netværk", "netværket")])
def test_inflections_share_their_terms(analyzer, forms):
    assert all(analyzer.analyze(f) == analyzer.analyze(forms[0]) for f in forms)


def test_compound_is_split_into_parts_known_from_vocabulary():
    analyzer = DanishAnalyzer(["produkt", "forvaltning", "organisation"])
    parts = analyzer.split("produktforvaltningsorganisation")
    assert {"produkt", "forvaltning", "organisation"} <= set(parts)


def test_compound_keeps_the_whole_word_term_before_its_parts(analyzer):
    terms = analyzer.analyze("produktforvaltningsorganisation")
    assert terms[0] == "produktforvaltningsorganisation"
    assert set(analyzer.analyze("produkt forvaltning organisation")) <= set(terms[1:])


def test_compound_with_missing_linking_s_has_the_same_parts():
    analyzer = DanishAnalyzer(["sikkerhed scripts"])
    parts = analyzer.analyze("sikkerhedsscripts")[1:]
    assert parts == analyzer.analyze("sikkerhedscripts")[1:]
    assert parts == analyzer.analyze("sikkerhed scripts")


@pytest.mark.parametrize(
    "word",
    [
        "organisationen",
        "etableret",
        "netværk",
        "undervisning",
        "automatiseret",
        "evalueringer",
        "handling",
        "transport",
    ],
)
def test_ordinary_words_are_not_split(analyzer, word):
    assert analyzer.split(word) == ()


def test_inflection_after_an_apostrophe_belongs_to_the_word(analyzer):
    """"pc'erne" is "pc" inflected: no stray "erne" term that the rest of the index never uses."""
    assert analyzer.analyze("pc'erne") == analyzer.analyze("PC’en") == analyzer.analyze("pc")
    assert analyzer.analyze("OS2's POC'ens") == analyzer.analyze("OS2 POC")
    assert analyzer.analyze("rock'n'roll") == analyzer.analyze("rock n roll")  # not an inflection



# --- the thesaurus --------------------------------------------------------------------------------


def test_thesaurus_senses_become_synonyms_without_phrases_or_hyponyms(tmp_path):
    (tmp_path / "th.dat").write_text(
        "UTF-8\nvirkning|2\n|effekt|indvirkning\n|ikrafttræden|gå i kraft\n"
        "flok|1\n|gruppe|fugleflok (underbegreb)\n", encoding="utf-8")
    table = _synonyms(tmp_path / "th.dat")
    assert set(table["virkning"]) == {"effek", "indvirkning", "ikrafttrad"}  # index terms: folded, stemmed
    assert set(table["effek"]) == {"virkning", "indvirkning"}  # one sense's words are each other's
    assert table["grup"] == ("flok",)
    assert "fugleflok" not in table and not any(" " in t for ts in table.values() for t in ts)


def test_a_missing_thesaurus_is_reported_and_leaves_no_synonyms(tmp_path, caplog):
    assert _synonyms(tmp_path / "missing.dat") == {}
    assert "mythes-da" in caplog.text and "missing.dat" in caplog.text
