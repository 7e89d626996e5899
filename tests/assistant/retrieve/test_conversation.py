"""Follow-ups only when they are follow-ups: a question that names its own subject is answered exactly
as it would be alone; one that refers back carries the previous user turn's words."""

import pytest

from assistant.models import Turn, turns_from
from assistant.retrieve.retriever import condense, is_follow_up
from assistant.serve.service import Assistant
from assistant.settings import Settings


@pytest.mark.parametrize("question", [
    "Hvornår sker den juridiske overdragelse af OS2display?", "Hvad koster et leverandør hackaton?",
    "Hvem er mødeleder på netværksmødet den 16. juni?", "Hvad er det første skridt i processen?",
    "When will the formal handover of the OS2display source code happen?",
    "Hvad betyder det for kommunerne, at koden frigives?", "Er det også muligt at bruge OS2forms offline?",
    "Kan man også bruge OS2forms til ansøgninger?", "Hvordan får jeg den bedste pris på et hackaton?",
])
def test_a_question_that_names_its_subject_stands_alone(question):
    assert not is_follow_up(question)


@pytest.mark.parametrize("question", [
    "Og hvor foregår det?", "Hvad koster det?", "Hvem leverer den?", "Hvor melder jeg en fejl i den?",
    "Hvor mange timer er der sat af til ham og projektlederen i 2027?", "What about the steering group?",
    "Who maintains it?",
    # a short question whose "det"/"den" stands for what was asked before ("planlægge en playliste")
    "Kan man også det på de enkelte slides?", "Gælder det også for skærmgrupper i admin?",
    "Hvordan gør man det på en enkelt skærm?", "Hvordan sletter jeg den igen fra listen?",
])
def test_a_question_that_refers_back_is_a_follow_up(question):
    assert is_follow_up(question)


def test_a_short_question_leaning_on_the_one_before_carries_its_subject():
    history = [Turn("user", "Hvordan planlægger man en playliste?"), Turn("assistant", "Under Spillelister …")]
    assert condense("Kan man også det på de enkelte slides?", history).context == "Hvordan planlægger man en playliste?"
    assert condense("Hvordan opretter man en kampagne?", history).context == ""  # a question of its own


def test_only_a_user_turn_is_carried_over_and_at_most_500_characters_of_it():
    assert condense("Hvad koster det?", [Turn("assistant", "Et hackaton.")]).context == ""
    long = [Turn("user", "hackaton " * 2000), Turn("assistant", "x" * 10_000)]
    assert len(condense("Hvad koster det?", long).context) == 500
    damaged = turns_from([{"role": "user", "content": None}, "odd", {"role": "user"}, {"role": "system", "content": "x"}])
    assert damaged == [Turn("user", ""), Turn("user", "")]
    assert condense("Hvad koster det?", damaged).context == ""


@pytest.fixture(scope="module")
def assistant(index_current):  # type: ignore[no-untyped-def]
    return Assistant.open(Settings(index_dir=index_current))


def _ask_after(assistant, first: str, second: str):  # type: ignore[no-untyped-def]
    before = assistant.ask(first)
    return assistant.ask(second, [Turn("user", first), Turn("assistant", before.text)])


def test_an_unrelated_question_before_does_not_change_the_answer(assistant):
    question = "Hvornår sker den juridiske overdragelse af OS2display?"
    alone = assistant.ask(question)
    after = _ask_after(assistant, "Hvad koster et leverandør hackaton?", question)
    assert alone.answered and "1 Januar 2026" in alone.text
    assert (after.text, [c.url for c in after.citations]) == (alone.text, [c.url for c in alone.citations])


def test_a_follow_up_is_answered_from_the_earlier_subject(assistant):
    answer = _ask_after(assistant, "Hvad er et Micro Hackaton i forløbet om healthanalyzeren?", "Hvad koster det?")
    assert answer.answered and "63.000" in answer.text


def test_a_question_that_refers_to_nothing_is_declined(assistant):
    answer = assistant.ask("Hvor foregår det?", [Turn("assistant", "x" * 10_000)])
    assert not answer.answered and answer.reason == "no-subject"


def test_a_question_repeated_is_answered_as_the_first_time(assistant):
    question = "Hvad koster et Micro Hackaton?"
    first = assistant.ask(question)
    again = assistant.ask(question, [Turn("user", question), Turn("assistant", first.text)])
    assert again.text == first.text and "63.000" in first.text
