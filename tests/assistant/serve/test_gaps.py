"""The docs-gap report: grouping, and a CSV that spreadsheets read as text."""

import csv
import io

import pytest

from assistant.retrieve.danish_analyzer import DanishAnalyzer
from assistant.serve.gaps import gaps_csv, group_gaps


@pytest.fixture(scope="module")
def analyzer():  # type: ignore[no-untyped-def]
    return DanishAnalyzer()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "＝"])
def test_a_cell_that_starts_like_a_formula_is_prefixed_with_a_quote(analyzer, start):
    items = [{"question": f"{start}CMD|' /C calc'!A0 mangler", "reason": "abstained",
              "pages": [{"title": f"{start}1+1", "url": "https://x.dk/a.html"}]}]
    rows = list(csv.reader(io.StringIO(gaps_csv(group_gaps(items, analyzer)))))
    assert rows[1][3] == f"'{start}CMD|' /C calc'!A0 mangler"
    assert rows[1][4].startswith(f"'{start}1+1")


def test_ordinary_questions_are_not_changed(analyzer):
    items = [{"question": "Hvad koster medlemskab?", "reason": "abstained", "pages": []}]
    assert list(csv.reader(io.StringIO(gaps_csv(group_gaps(items, analyzer)))))[1][3] == "Hvad koster medlemskab?"


def test_rows_with_the_wrong_shape_are_skipped(analyzer):
    items = [{"question": {"x": 1}, "reason": "abstained", "pages": []},
             {"question": "Hvem betaler?", "reason": "abstained", "pages": ["x", 5, {"title": {"a": 1}, "url": 3}]}]
    gaps = group_gaps(items, analyzer)
    assert [g.questions for g in gaps] == [["Hvem betaler?"]]
