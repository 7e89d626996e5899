"""One abstention decision: named checks over calibrated signals, each declining with its reason."""

import pytest

from assistant.answer.abstain import CHECKS
from assistant.serve.service import Assistant
from assistant.settings import Settings


@pytest.fixture(scope="module")
def assistant(index_current):  # type: ignore[no-untyped-def]
    return Assistant.open(Settings(index_dir=index_current))


def test_every_check_has_its_own_name():
    names = [name for name, _ in CHECKS]
    assert len(names) == len(set(names)) and "meaning" in names and "answer-type" in names


@pytest.mark.parametrize(("question", "reason"), [
    # a phone number no page states: sentences about her are close enough for the reader, but none
    # holds a phone number (since the reader of 2026-12-07's fifth session: its own threshold, at the
    # calibration grid's floor, declines neither this nor the recipe; `meaning` is tested below)
    ("Hvad er telefonnummeret til Anna-Lis Berg?", "answer-type"),
    ("Hvad koster en kop kaffe i kantinen på netværksmødet?", "answer-type"),
    # how long, where the pages about it state no span of time
    ("Hvor længe skal man være medlem af netværket?", "answer-type"),
    # no page is about the question's words
    ("Hvordan laver man rødgrød med fløde?", "coverage"),
])
def test_an_unanswerable_question_is_declined_with_the_check_that_declined_it(assistant, question, reason):
    answer = assistant.ask(question)
    assert not answer.answered and answer.reason == reason
    assert answer.text.startswith("Det kan jeg ikke finde i dokumentationen.")


def test_how_long_is_answered_by_a_span_of_time_the_page_states(assistant):
    answer = assistant.ask("Hvor længe varer netværksmødet den 16. juni?")
    assert answer.answered and "10:00–16:00" in answer.text


def test_an_english_question_the_pages_answer_is_answered(assistant):
    # Answered from the OS2display page. Which sentence leads is the reader's choice: since #26 a 2025
    # task list of that page (scored 0.665 against 0.653 for the 2027 phase-out), where the cosine led
    # with a 2026 date; the handover sentence itself ranks below both (BENCHMARKS.md, #26).
    answer = assistant.ask("When will the formal handover of the OS2display source code happen?")
    assert answer.answered and answer.reason == "" and answer.text.startswith("From the documentation")
    assert answer.citations[0].path.endswith("OS2display/OS2Display.md")


def test_the_thresholds_are_settings(index_current):
    strict = Assistant.open(Settings(index_dir=index_current, abstain_sentence=0.99))
    answer = strict.ask("Hvad koster et Micro Hackaton?")
    assert not answer.answered and answer.reason == "meaning"
    lenient = Assistant.open(Settings(index_dir=index_current, abstain_sentence=0.5, abstain_coverage=0.0))
    assert lenient.ask("Hvad koster et Micro Hackaton?").answered
