"""The extractive answerer on hand-made passages: which sentences it quotes, and how (with the real
multilingual model choosing sentences by meaning)."""

import re
from functools import cache

import pytest

from assistant.answer.evidence import QueryEvidence
from assistant.answer.expect import question_parts
from assistant.answer.extractive import MAX_LIST_WORDS, ExtractiveAnswerer
from assistant.answer.meaning import SentenceVectors
from assistant.embed.embedder import embedding_key, get_embedder
from assistant.models import Answer, Chunk
from assistant.retrieve.danish_analyzer import DanishAnalyzer
from assistant.retrieve.lexical import LexicalIndex
from assistant.retrieve.retriever import Passage, Snapshot
from assistant.settings import Settings


@cache
def _embedder():  # type: ignore[no-untyped-def]
    settings = Settings()
    return get_embedder(settings.embedding_model, settings.embedding_batch_size, settings.embedding_backend,
                        settings.cache_dir)


@pytest.fixture(autouse=True)
def _vectors(tmp_path):  # type: ignore[no-untyped-def]
    global _SENTENCES
    settings = Settings()
    _SENTENCES = SentenceVectors(tmp_path, embedding_key(settings.embedding_model, settings.embedding_backend),
                                 lambda texts: _embedder().embed_passages(texts))


_SENTENCES: SentenceVectors


def _chunk(n: int, text: str) -> Chunk:
    return Chunk(source="s", path=f"p{n}.md", title=f"Side {n}", breadcrumb=(f"Side {n}",), headings=("Afsnit",),
                 anchor="afsnit", url=f"https://example.org/p{n}/#afsnit", date="", text=text, ordinal=0)


def _answer(question: str, *texts: str) -> str:
    return _answered(question, *texts).text


def _answered(question: str, *texts: str, language: str = "da", parts: bool = True) -> Answer:
    chunks = {f"c{i}": _chunk(i, t) for i, t in enumerate(texts)}
    filler = {f"f{i}": _chunk(100 + i, f"Andet emne nummer {i} om vejret og havet.") for i in range(20)}
    everything = chunks | filler  # a few unrelated passages, so that IDF means something
    analyzer = DanishAnalyzer(c.embed_text for c in everything.values())
    lexical = LexicalIndex(list(everything), [c.embed_text for c in everything.values()], analyzer)
    snapshot = Snapshot(1, everything, lexical, analyzer, len(everything), None)
    passages = [Passage(i, c, 1.0 - 0.1 * n) for n, (i, c) in enumerate(chunks.items())]
    score = _SENTENCES.scorer(_embedder().embed_queries([question])[0])
    asks = [_SENTENCES.scorer(_embedder().embed_queries([part])[0]) for part in question_parts(question)] \
        if parts else []
    return ExtractiveAnswerer().answer(QueryEvidence(question, snapshot), passages, language, score, asks)


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
    assert "Anna-Lis Berg" in answer


def test_a_short_label_with_its_value_stands_alone():
    """"Målrettet leverandør: Iterator IT ApS" says all it has to say: the line after it (a heading of
    the next part) is not brought along; "Mødeleder:" alone, or a lead of a few words, still brings it."""
    from assistant.answer.extractive import Candidate, _lead_lines

    def quoted(lines: list[str]) -> list[str]:
        lead = Candidate(0, 0, lines[0], 0.9, 0.5, False)
        _lead_lines(lead, lines, as_list=False)
        return lead.lines

    assert quoted(["Målrettet leverandør: Iterator IT ApS", "Udvikling og Dokumentation"]) == [
        "Målrettet leverandør: Iterator IT ApS"]
    assert quoted(["Mødeleder:", "Anna-Lis Berg"]) == ["Mødeleder:", "Anna-Lis Berg"]
    assert quoted(["Det koster:", "150 kr. om måneden"]) == ["Det koster:", "150 kr. om måneden"]
    assert quoted(["Prisen er lav.", "150 kr. om måneden"]) == ["Prisen er lav.", "150 kr. om måneden"]


def test_a_list_item_is_not_quoted_twice():
    text = "Netværket har to mødetyper:\n- Formelle netværksmøder\n- Netværket holder også virtuelle møder"
    answer = _answer("Hvilke mødetyper har netværket?", text)
    assert answer.count("virtuelle møder") == 1


def test_sentences_do_not_break_after_list_numbers_or_abbreviations():
    from assistant.text import sentences

    assert sentences("1. Hackaton er godt. Det er fint.\n12. POC\nMødet er kl. 10:00-16:00. Nr. 5 er med.") == [
        "1. Hackaton er godt.", "Det er fint.", "12. POC", "Mødet er kl. 10:00-16:00.", "Nr. 5 er med."]


def test_a_sentence_that_announces_something_brings_it():
    """The address after "åbn adressen:" is what it announces: they are quoted together."""
    text = ("En indbygget webserver starter admin-sitets webgrænseflade på port 9999.\nI en browser åbn adressen:\n"
            "http://localhost:9999\nSom standard kan du logge ind med admin/admin")
    answer = _answer("Hvilken adresse skal jeg åbne i browseren for at se admin-sitet?", text)
    assert "I en browser åbn adressen: [1] http://localhost:9999 [1]" in answer


def test_the_answer_leads_with_the_sentence_that_answers():
    answer = _answer("Hvilken port kører webgrænsefladen på?",
                     "Webgrænsefladen kører på port 9999.\nDen genstartes hver nat.\nLogfilen ligger i /var/log.")
    assert answer.startswith("Webgrænsefladen kører på port 9999. [1]")


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


def test_a_compound_question_gets_the_sentence_that_answers_each_of_its_questions():
    """"Who …, and when …?": the date is quoted though two sentences of the lead's section score closer
    to the whole question; asked as one question, they fill the answer and the date is left out."""
    question = "Hvem planlægger medlemsmødet, og hvornår holdes det?"
    texts = ("Produktsekretariatet planlægger medlemsmødet. Medlemsmødet er for alle kommuner i fællesskabet. "
             "Medlemsmødet handler om strategi og retning for produktet.",
             "Tidsplan: arrangementet afholdes i anden halvdel af 2026.")
    assert "anden halvdel af 2026" in _answer(question, *texts)
    assert "Produktsekretariatet planlægger" in _answer(question, *texts)
    assert "anden halvdel af 2026" not in _answered(question, *texts, parts=False).text


def test_at_most_two_sentences_are_added_to_the_lead():
    text = " ".join(f"Punkt {i} handler om webgrænsefladen og dens port." for i in range(8))
    answer = _answer("Hvilken port kører webgrænsefladen på?", text)
    assert len(re.findall(r"\[\d+\]", answer)) <= 3


def test_a_passage_of_headings_and_code_alone_is_no_answer():
    """An empty page's only text is its title; a merged section keeps its heading as a line."""
    answer = _answered("Hvem er mødeleder på netværksmødet?", "Side 0\nAfsnit:\n```\nls -l\n```")
    assert not answer.answered and answer.text.startswith("Det kan jeg ikke finde") and answer.reason == "meaning"


def test_an_english_question_over_danish_text_is_told_the_quote_is_danish():
    answer = _answered("How long are the log files kept?", "Logfilerne gemmes i 90 dage og slettes derefter.",
                       language="en")
    assert answer.language == "en" and answer.text.startswith("From the documentation (quoted in Danish):")


def test_an_english_question_over_english_text_gets_no_language_note():
    answer = _answered("How long are the log files kept?", "The log files are kept for 90 days and then deleted.",
                       language="en")
    assert "90 days" in answer.text and "quoted in Danish" not in answer.text


def test_two_items_of_one_list_are_quoted_as_the_list_in_its_order():
    text = ("En kampagne består af:\n1. et navn og en beskrivelse\n2. en eller flere slides\n"
            "3. en tidsplan for visning")
    answer = _answer("Hvad består en kampagne af, navn og slides?", text)
    assert answer.index("et navn og en beskrivelse") < answer.index("en eller flere slides")


def test_a_short_code_block_the_quoted_paragraph_introduces_is_quoted_with_it():
    """"Volume data ligger på denne sti." points at the path in the code block after it: the answer
    quotes the block, as code; a long script after a paragraph, or code elsewhere, is not quoted."""
    path = "/var/lib/docker/volumes/os2borgerpc-admin-site-deployment_admin-media"
    text = ("Scripts og andre uploads gemmes på et persistent volume, der hedder admin-media.\n"
            f"Volume data ligger på denne sti. Stien kan variere alt efter installationen.\n```\n{path}\n```\n"
            "Det er vigtigt at tage backup af filerne.")
    answer = _answer("Hvor gemmes scripts og uploads, så de overlever en genstart?", text)
    assert f"```\n{path}\n```" in answer and re.search(r"\[1\]\n```", answer), answer
    assert answer.index("denne sti.") < answer.index(path)  # right after the sentence that points at it
    script = "\n".join(f"echo trin {i}" for i in range(10))
    long_code = text.replace(f"```\n{path}\n```", f"```\n{script}\n```")
    assert "```" not in _answer("Hvor gemmes scripts og uploads, så de overlever en genstart?", long_code)
    elsewhere = ("Scripts og andre uploads gemmes på et persistent volume, der hedder admin-media.\n"
                 "Det er vigtigt at tage backup af filerne.\nHavet er koldt om vinteren, og fiskene svømmer dybt.\n"
                 "```\nls -l\n```")
    assert "```" not in _answer("Hvor gemmes scripts og uploads, så de overlever en genstart?", elsewhere)


def test_code_after_finds_the_block_directly_after_the_line_of_a_sentence():
    from assistant.text import code_after

    text = "Første linje.\nKør dette. Så virker det.\n\n```\ntask backup_db\n```\nSidste linje.\n```\nls\n```"
    assert code_after(text, "Kør dette.") == "task backup_db"
    assert code_after(text, "Første linje.") is None  # another line comes first
    assert code_after(text, "Sidste linje.") == "ls"
    assert code_after(text, "Findes ikke.") is None
    assert code_after("Uafsluttet:\n```\nls -l", "Uafsluttet:") == "ls -l"
