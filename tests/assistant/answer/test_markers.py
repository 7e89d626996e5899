"""Citation markers of an LLM reply: read, resolved to citation numbers, dropped when they point nowhere.

The whole path (a reply from the fake OpenAI server checked against real passages) is in test_llm.py.
"""

from __future__ import annotations

import pytest

from assistant.answer.markers import marker_numbers, renumber, strip_markers


@pytest.mark.parametrize(("marker", "numbers"), [
    ("[1]", [1]), ("[1, 3]", [1, 3]), ("[1; 3]", [1, 3]), ("[2-4]", [2, 3, 4]), ("[2–4]", [2, 3, 4]),
    ("[Kilde 2]", [2]), ("[sources 1, 2]", [1, 2]), ("[^3]", [3]),
    ("[1-50]", [1, 50]),  # not a range anyone means: the two ends
])
def test_marker_numbers_reads_lists_ranges_and_labels(marker, numbers):
    assert marker_numbers(marker) == numbers


def test_text_in_brackets_is_no_marker():
    assert strip_markers("Tryk på [Gem] og [1000] [1].") == "Tryk på [Gem] og [1000] ."


def test_a_run_of_markers_becomes_the_resolved_citation_numbers_once_each():
    citation = {1: 1, 2: 2, 3: 1}  # sources 1 and 3 are the same section
    text, used = renumber("Belcom leverer [3][2]. ITK tester [1, 2].", lambda n, _: citation.get(n))
    assert text == "Belcom leverer [1][2]. ITK tester [1][2]." and used == [1, 2]


def test_a_run_pointing_at_no_source_disappears_with_its_space():
    text, used = renumber("Belcom leverer [1][9]. Det koster [9].\n[9] Intet her.", lambda n, _: 1 if n == 1 else None)
    assert text == "Belcom leverer [1]. Det koster.\nIntet her." and used == [1]


def test_each_marker_is_resolved_with_the_statement_it_stands_after():
    statements: list[tuple[int, str]] = []

    def resolve(number: int, statement: str) -> int:
        statements.append((number, statement))
        return number

    renumber("Belcom leverer [1]. ITK tester, og de gør det godt [2, 1].", resolve)
    assert statements == [(1, "Belcom leverer"), (2, "ITK tester, og de gør det godt"),
                          (1, "ITK tester, og de gør det godt")]
