"""The extractive answerer on hand-made passages: which sentences it quotes, and how."""

import re

from assistant.answer.evidence import QueryEvidence
from assistant.answer.extractive import MAX_LIST_WORDS, ExtractiveAnswerer
from assistant.lexical import DanishAnalyzer, LexicalIndex
from assistant.models import Answer, Chunk
from assistant.retrieve import Passage, Snapshot


def _chunk(n: int, text: str) -> Chunk:
    return Chunk(source="s", path=f"p{n}.md", title=f"Side {n}", breadcrumb=(f"Side {n}",), headings=("Afsnit",),
                 anchor="afsnit", url=f"https://example.org/p{n}/#afsnit", date="", text=text, ordinal=0)


def _answer(question: str, *texts: str) -> str:
    return _answered(question, *texts).text


def _answered(question: str, *texts: str) -> Answer:
    chunks = {f"c{i}": _chunk(i, t) for i, t in enumerate(texts)}
    filler = {f"f{i}": _chunk(100 + i, f"Andet emne nummer {i} om vejret og havet.") for i in range(20)}
    everything = chunks | filler  # a few unrelated passages, so that IDF means something
    analyzer = DanishAnalyzer(c.embed_text for c in everything.values())
    lexical = LexicalIndex(list(everything), [c.embed_text for c in everything.values()], analyzer)
    snapshot = Snapshot(1, everything, lexical, analyzer, len(everything), None)
    passages = [Passage(i, c, 1.0 - 0.1 * n) for n, (i, c) in enumerate(chunks.items())]
    return ExtractiveAnswerer().answer(QueryEvidence(question, snapshot), passages, "da")


def test_a_sentence_that_introduces_a_list_brings_its_items():
    text = ("Netværket anvender tre forskellige mødetyper:\n- Formelle netværksmøder\n- Virtuelle MeetUps\n"
            "- Erfagruppemøder\nMøderne planlægges af sekretariatet.")
    answer = _answer("Hvilke mødetyper anvender netværket?", text)
    assert answer.splitlines()[:4] == ["Netværket anvender tre forskellige mødetyper: [1]", "- Formelle netværksmøder [1]",
                                       "- Virtuelle MeetUps [1]", "- Erfagruppemøder [1]"]


def test_numbered_items_become_dash_items_and_every_line_is_cited():
    text = "Processen har fire trin:\n1. Hackaton\n2. POC\n3. Snakaton\n4. MVP"
    answer = _answer("Hvilke trin har processen?", text)
    assert "- Snakaton [1]" in answer.splitlines()
    assert all(re.search(r"\[\d+\]$", line) for line in answer.splitlines())


def test_a_long_list_is_cut_to_the_word_budget():
    items = "\n".join(f"- punkt {i} " + "ord " * 20 for i in range(8))
    answer = _answer("Hvilke punkter har listen?", "Listen har disse punkter:\n" + items)
    assert 1 < len(answer.splitlines()) < 9
    assert len(re.sub(r"\[\d+\]", "", answer).split()) <= MAX_LIST_WORDS


def test_the_best_sentence_brings_the_one_after_it():
    text = ("Velkommen til OS2 Produktmodning, et sted til anbefalinger om produktmodning. "
            "Mit navn er Anna-Lis Berg og jeg er produktkonsulent i OS2. Siden opdateres løbende.")
    answer = _answer("Hvem står bag OS2 Produktmodning?", text)
    assert "Anna-Lis Berg" in answer and "opdateres" not in answer


def test_a_list_item_is_not_quoted_twice():
    text = "Netværket har to mødetyper:\n- Formelle netværksmøder\n- Netværket holder også virtuelle møder"
    answer = _answer("Hvilke mødetyper har netværket?", text)
    assert answer.count("virtuelle møder") == 1


def test_sentences_do_not_break_after_list_numbers_or_abbreviations():
    from assistant.answer.evidence import sentences

    assert sentences("1. Hackaton er godt. Det er fint.\n12. POC\nMødet er kl. 10:00-16:00. Nr. 5 er med.") == [
        "1. Hackaton er godt.", "Det er fint.", "12. POC", "Mødet er kl. 10:00-16:00.", "Nr. 5 er med."]


def test_a_next_sentence_that_announces_something_brings_it_too():
    """The address after "åbn adressen:" is the answer; a line that announces nothing stops there."""
    text = ("En indbygget webserver starter admin-sitets webgrænseflade på port 9999.\nI en browser åbn adressen:\n"
            "http://localhost:9999\nSom standard kan du logge ind med admin/admin")
    answer = _answer("Hvilken port kører admin-sitets webgrænseflade på?", text)
    assert "http://localhost:9999 [1]" in answer and "admin/admin" not in answer
    plain = _answer("Hvilken port kører webgrænsefladen på?",
                    "Webgrænsefladen kører på port 9999.\nDen genstartes hver nat.\nLogfilen ligger i /var/log.")
    assert "hver nat" in plain and "/var/log" not in plain


def test_a_line_the_page_repeats_is_said_once():
    text = ("Log ind som superuser:\n- Vælg Superuser i menuen.\n- Skriv superusers adgangskode.\n"
            "Skift adgangskode for superuser:\n- Skriv superusers adgangskode.\n- Skriv den nye adgangskode.")
    answer = _answer("Hvordan logger man ind som superuser og skifter adgangskode?", text)
    assert answer.count("Skriv superusers adgangskode.") == 1 and "Skriv den nye adgangskode. [1]" in answer


def test_an_announced_numbered_list_after_the_best_sentence_is_a_list():
    text = ("Installationen er nu færdig.\nFor at åbne admin-sitet gør du følgende:\n1. Åbn en browser\n"
            "2. Skriv adressen\n3. Log ind")
    answer = _answer("Hvornår er installationen færdig?", text)
    assert answer.splitlines()[-3:] == ["- Åbn en browser [1]", "- Skriv adressen [1]", "- Log ind [1]"]


def test_the_same_sentence_on_two_pages_is_said_and_cited_once():
    sentence = "Affald hentes om mandagen i hele kommunen."
    answer = _answered("Hvornår hentes affald?", sentence, sentence)
    assert answer.text.count("mandagen") == 1 and [c.n for c in answer.citations] == [1]
