"""Example questions: written from the pages (examples.py), kept when the assistant answers them well
(Assistant.example_questions, over the real os2produktmodning index)."""

from assistant.models import Chunk
from assistant.serve.examples import Candidate, Judged, candidates, choose, questions_from


def chunk(heading: str = "", text: str = "Tekst.", path: str = "a.md", ordinal: int = 0) -> Chunk:
    return Chunk(source="docs", path=path, title="Side", breadcrumb=("Side",), headings=(heading,) if heading else (),
                 anchor="", url=f"https://docs.example/{path}", date="", text=text, ordinal=ordinal)


def test_a_heading_that_is_a_question_is_asked_as_it_stands():
    assert questions_from(chunk("Hvad er OS2borgerPC?")) == ["Hvad er OS2borgerPC?"]
    assert questions_from(chunk("Kræver assistenten internetforbindelse")) == ["Kræver assistenten internetforbindelse?"]


def test_a_how_to_heading_becomes_the_readers_question():
    assert questions_from(chunk("Sådan opsætter du Cron jobs")) == ["Hvordan opsætter jeg Cron jobs?"]
    assert questions_from(chunk("", "Sådan tilføjer du et nyt site, som assistenten skal kunne svare ud fra:")) \
        == ["Hvordan tilføjer jeg et nyt site?"]


def test_process_advantage_and_price_headings_become_questions():
    assert questions_from(chunk("3.1 Installation af OS2borgerPC fra USB-stick")) \
        == ["Hvordan foregår installation af OS2borgerPC fra USB-stick?"]
    assert questions_from(chunk("Fordele ved intern placering")) == ["Hvad er fordelene ved intern placering?"]
    assert questions_from(chunk("Prisen for en POC")) == ["Hvad koster en POC?"]


def test_first_sentences_that_define_or_give_a_purpose_become_questions():
    assert questions_from(chunk("", "OS2Rollekatalog er et værktøj til styring af rettigheder.")) == ["Hvad er OS2Rollekatalog?"]
    assert questions_from(chunk("", "Formålet med en open-source Healthanalyzer er at skabe et datagrundlag.")) \
        == ["Hvad er formålet med en open-source Healthanalyzer?"]
    assert questions_from(chunk("", "OS2borgerPC-grupper kan bruges til at lave en policy.")) \
        == ["Hvad kan OS2borgerPC-grupper bruges til?"]


def test_sentences_without_a_named_subject_and_plain_headings_give_no_question():
    for text in ("Det er en god idé at tage backup.", "Nedenstående krav er udarbejdet af X.", "Der er et problem."):
        assert questions_from(chunk("", text)) == []
    assert questions_from(chunk("Roadmap 2026")) == []


def test_markup_placeholders_and_overlong_questions_are_left_out():
    for heading in ("Hvad er {title}?", "Hvad betyder [produktnavn]?", "Hvad er xxx?", "Hvad skal HUSK gøre?",
                    "Hvordan " + "meget " * 12 + "?"):
        assert questions_from(chunk(heading)) == [], heading


def test_candidates_are_unique_and_pages_take_turns():
    chunks = [chunk("Hvad er A?", path="a.md"), chunk("Hvad er B?", path="a.md", ordinal=1),
              chunk("Hvad er C?", path="c.md"), chunk("Hvad er a?", path="d.md")]
    assert [c.question for c in candidates(chunks)] == ["Hvad er A?", "Hvad er C?", "Hvad er B?"]


def test_choose_keeps_well_answered_questions_from_their_own_page_one_per_page_best_first():
    found = [Candidate("Hvad er A?", "docs", "a.md"), Candidate("Hvad er A2?", "docs", "a.md"),
             Candidate("Hvad er B?", "docs", "b.md"), Candidate("Hvad er C?", "docs", "c.md"),
             Candidate("Hvad er D?", "docs", "d.md"), Candidate("Hvad er E?", "docs", "e.md")]
    verdicts = {"Hvad er A?": Judged(True, 0.91, ("docs", "a.md")), "Hvad er A2?": Judged(True, 0.95, ("docs", "a.md")),
                "Hvad er B?": Judged(True, 0.97, ("docs", "x.md")),  # answered from another page
                "Hvad er C?": Judged(False, 0.99, ("docs", "c.md")),  # declined
                "Hvad er D?": Judged(True, 0.80, ("docs", "d.md")),  # too low a score
                "Hvad er E?": Judged(True, 0.93, ("docs", "e.md"))}
    assert choose(found, verdicts.__getitem__, min_score=0.9, limit=5, fill=0) == ["Hvad er A2?", "Hvad er E?"]
    assert choose(found, verdicts.__getitem__, min_score=0.9, limit=1, fill=0) == ["Hvad er A2?"]


def test_the_assistant_offers_real_questions_it_answers(index_current):
    from assistant.serve.service import Assistant
    from assistant.settings import Settings

    assistant = Assistant.open(Settings(index_dir=index_current))
    shown = assistant.example_questions(4)
    assert len(shown) == 4
    for question in shown:
        assert not question.startswith("Hvad står der om")
        answer = assistant.ask(question)
        assert answer.answered and answer.citations, question


def test_examples_rotate_and_are_chosen_once_per_index_version(index_current):
    from assistant.serve.service import Assistant
    from assistant.settings import Settings

    assistant = Assistant.open(Settings(index_dir=index_current))
    judged: list[str] = []
    judge = assistant._judge_example
    assistant._judge_example = lambda q: judged.append(q) or judge(q)  # type: ignore[method-assign]
    first = assistant.example_questions(3)
    tried = len(judged)
    second = assistant.example_questions(3)
    assert tried > 0 and len(judged) == tried  # the second call judges nothing again
    pool = assistant._examples_cache[1]
    assert len(pool) > 3 and first != second and set(first) | set(second) <= set(pool)


def test_examples_that_cannot_be_chosen_are_none(index_current, caplog):
    """Examples are a nicety: an index that cannot be read gives none (logged), not an error."""
    from types import SimpleNamespace

    from assistant.errors import StoreError
    from assistant.serve.service import Assistant
    from assistant.settings import Settings

    def unreadable():  # type: ignore[no-untyped-def]
        raise StoreError("Vector store /srv/index failed to read")

    assistant = Assistant.open(Settings(index_dir=index_current))
    assistant.retriever = SimpleNamespace(snapshot=unreadable)  # type: ignore[assignment]
    assert assistant.example_questions(4) == []
    assert "no example questions" in caplog.text


def test_a_sentence_saying_what_something_is_used_for_becomes_a_question():
    assert questions_from(chunk("", "Kalenderskabelonen bruges til at vise, hvad der foregår i lokaler.")) \
        == ["Hvad bruges kalenderskabelonen til?"]
    assert questions_from(chunk("", "Kampagner bruges typisk til:")) == ["Hvad bruges kampagner til?"]


def test_too_few_well_answered_questions_are_filled_up_with_those_answered_from_their_page():
    """A site whose pages give few candidates (os2display: 6 of 51 pages) still shows FILL examples:
    the questions answered from their own page, below the high score, come after those above it."""
    found = [Candidate(f"Hvad er {x}?", "docs", f"{x}.md") for x in "ABCDE"]
    verdicts = {"Hvad er A?": Judged(True, 0.95, ("docs", "A.md")), "Hvad er B?": Judged(True, 0.88, ("docs", "B.md")),
                "Hvad er C?": Judged(True, 0.86, ("docs", "C.md")), "Hvad er D?": Judged(False, 0.9, ("docs", "D.md")),
                "Hvad er E?": Judged(True, 0.87, ("docs", "x.md"))}
    assert choose(found, verdicts.__getitem__, min_score=0.92, limit=12) == ["Hvad er A?", "Hvad er B?", "Hvad er C?"]


def test_a_question_about_something_only_its_own_page_names_comes_last():
    """On a site about OS2display, "Hvad er OS2BorgerPC Kiosk?" (named on one page of many) is about
    another product: it is shown only when nothing else is left."""
    pages = [chunk("", "OS2Display viser indhold på skærme.", path=f"p{i}.md") for i in range(10)]
    pages.append(chunk("", "OS2BorgerPC Kiosk er en slank Ubuntu Linux installation.", path="devices.md"))
    pages.append(chunk("", "Kampagner er en særlig type spilleliste i OS2Display.", path="kampagner.md"))
    found = candidates(pages)
    assert [(c.question, c.peripheral) for c in found] == [("Hvad er OS2BorgerPC Kiosk?", True),
                                                           ("Hvad er kampagner?", False)]
    verdicts = {c.question: Judged(True, 0.95, (c.source, c.path)) for c in found}
    assert choose(found, verdicts.__getitem__, min_score=0.92, limit=12, fill=1) == ["Hvad er kampagner?"]
    assert choose(found, verdicts.__getitem__, min_score=0.92, limit=12, fill=2) == \
        ["Hvad er kampagner?", "Hvad er OS2BorgerPC Kiosk?"]
