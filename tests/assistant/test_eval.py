"""The evaluation measures on hand-made rankings and answers (the whole run over both dev sets is
tests/bench/test_eval.py)."""

from __future__ import annotations

import pytest

from assistant.eval import Question, Result, answer_words, fact_recall, load_questions, metrics, ranks, shows_markup


def question(gold: list[dict], kind: str = "lookup") -> Question:
    return Question("q", "?", kind, "da", [], gold)


def test_ranks_by_page_and_by_section():
    q = question([{"path": "a.md", "heading": "Pris"}])
    ranked = [("b.md", ("Pris",), ("Pris",)), ("a.md", ("Intro",), ("Intro",)),
              ("a.md", ("Intro", "Pris"), ("Pris",))]
    assert ranks(q, ranked) == Result(page_rank=2, section_rank=3)
    before_first_heading = question([{"path": "a.md", "heading": None}])
    assert ranks(before_first_heading, [("a.md", ("Intro",), ()), ("a.md", (), ())]) == Result(1, 2)
    merged = question([{"path": "a.md", "heading": "Pris"}])  # a chunk that covers a merged section
    assert ranks(merged, [("a.md", ("Økonomi",), ("Økonomi", "Pris"))]) == Result(1, 1)
    assert ranks(q, [("b.md", (), ())] * 12) == Result(None, None)


def test_metrics_count_hits_reciprocal_ranks_and_abstentions():
    rows = [(question([{"path": "a"}]), Result(1, 1, answered=True, facts=1.0)),
            (question([{"path": "a"}]), Result(4, None, answered=False, facts=0.0)),
            (question([{"path": "a"}]), Result(None, None, answered=True, facts=0.5)),
            (question([]), Result(None, None, answered=False)),
            (question([]), Result(None, None, answered=True))]
    m = metrics(rows)
    assert m["n"] == 3
    assert m["page hit@1"] == pytest.approx(1 / 3) and m["page hit@5"] == pytest.approx(2 / 3)
    assert m["page MRR@10"] == pytest.approx((1 + 1 / 4) / 3)
    assert m["section hit@5"] == pytest.approx(1 / 3)
    assert m["abstain precision"] == 0.5 and m["abstain recall"] == 0.5
    assert m["wrong abstain rate"] == pytest.approx(1 / 3)
    assert m["answer fact recall"] == pytest.approx(0.5)


@pytest.mark.parametrize("text", [
    "12.00 - 12.45 | Frokost | buffet [1]", "Se (Roller i Mikro-Hackathonet)[https://x.org] [1]", "Det er **vigtigt** [1]",
    "Funktionalitet er deploybar ** [1]", "gantt dateFormat YYYY-MM-DD [1]", "# Make a backup [1]", "Brug `ls` [1]",
    "Tryk på <b>Gem</b> [1]", "{% include x %} [1]", "Afklaring --> Forberedelse [1]",
])
def test_markup_a_reader_should_not_see_is_found(text):
    assert shows_markup(text)


@pytest.mark.parametrize("text", [
    "Netværket mødes to gange om året. [1]", "Trinene er: [1]\n- Hackaton [1]\n- POC [1]",
    "Kør kommandoen: [1]\n[1]\n```\npg_dump x > backup.sql\n```", "Kald den BIB-BORGER<nummer på PC’en> [1]",
    "Tid: 12.00 - 12.45; Punkt: Frokost [1]", "check_notifications og clean_up_database [1]",
])
def test_prose_lists_and_code_quoted_as_code_are_not_markup(text):
    assert not shows_markup(text)


def test_answer_length_leaves_out_citation_markers():
    assert answer_words("Et Micro Hackaton koster 63.000 kr [1] [2]") == 6


def test_reader_measures_count_answered_questions_and_standalone_pairs():
    rows = [(question([{"path": "a"}]), Result(1, 1, answered=True, words=30, markup=False)),
            (question([{"path": "a"}]), Result(1, 1, answered=True, words=50, markup=True, stable=False)),
            (question([{"path": "a"}]), Result(1, 1, answered=True, words=40, markup=False, stable=True)),
            (question([]), Result(None, None, answered=False, words=8, markup=False, stable=True))]
    m = metrics(rows)
    assert m["markup"] == pytest.approx(1 / 3) and m["median words"] == 40 and m["stable"] == pytest.approx(2 / 3)


def test_the_checks_that_declined_are_counted_apart_for_answerable_and_unanswerable():
    from assistant.eval import declined_by

    rows = [(question([{"path": "a"}]), Result(1, 1, answered=False, reason="meaning")),
            (question([]), Result(None, None, answered=False, reason="answer-type")),
            (question([]), Result(None, None, answered=False, reason="answer-type")),
            (question([]), Result(None, None, answered=True))]
    assert declined_by(rows) == "Declined by: answer-type 2 (unanswerable), meaning 1 (answerable)."
    assert declined_by(rows[3:]) == "Declined: none."


def test_fact_recall_ignores_case_spacing_and_punctuation_and_accepts_either_spelling():
    answer = "Prisen er 63.000-95.000 kr. om året; det aftales på erfagruppemøder."
    assert fact_recall(["63.000 -95.000 kr", "Erfagruppe møder (erfagruppemøder)"], answer) == 1.0
    assert fact_recall(["95.000 kr", "hvert kvartal"], answer) == 0.5
    assert fact_recall([], answer) is None


def test_the_facts_the_pages_state_word_for_word_are_the_most_a_quote_can_hold():
    from assistant.eval import _plain, facts_in

    pages = _plain("Vedligehold udføres af Belcom. Et Micro Hackaton koster 63.000 - 95.000 kr.")
    assert facts_in(["Belcom", "63.000-95.000 kr", "leverandør på ferie"], pages) == pytest.approx(2 / 3)
    rows = [(question([{"path": "a"}]), Result(1, 1, answered=True, facts=0.5, stated=1.0)),
            (question([{"path": "a"}]), Result(1, 1, answered=True, facts=0.0, stated=0.5)),
            (question([]), Result(None, None, answered=False))]
    m = metrics(rows)
    assert m["facts on pages"] == pytest.approx(0.75) and m["answer fact recall"] == pytest.approx(0.25)


def test_a_broken_question_line_names_the_file_and_line(tmp_path):
    file = tmp_path / "q.jsonl"
    file.write_text('{"id": "1", "question": "Hvad?"}\n\n{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"q\.jsonl, line 3: not a question record"):
        load_questions(file)
