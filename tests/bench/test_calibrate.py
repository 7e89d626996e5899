"""The separation report of bench/calibrate.py: how well a signal tells answerable from unanswerable."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.calibrate import SITES, auc, separation


def test_auc_is_the_chance_an_answerable_value_is_above_an_unanswerable_one():
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.5, 0.9], [0.5]) == pytest.approx(0.75)  # a tie counts half


def _seen(answerable: bool, sentence: float, lang: str = "da"):  # type: ignore[no-untyped-def]
    passage = SimpleNamespace(dense=sentence, dense_rank=0, lexical_rank=0 if answerable else 3)
    signals = SimpleNamespace(sentence=sentence, coverage=0.5, unknown_share=0.0, states_type=True)
    question = SimpleNamespace(answerable=answerable, lang=lang)
    return SimpleNamespace(question=question, signals=signals, found=SimpleNamespace(passages=[passage]))


def test_the_report_gives_each_signal_its_auc_per_site_on_danish_questions_only():
    group = [_seen(True, 0.9), _seen(True, 0.8), _seen(False, 0.85), _seen(False, 0.99, lang="en")]
    report = separation({site: group for site in SITES})
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in report.splitlines() if line.startswith("| ")]
    rows = {row[0]: row[1:] for row in cells}
    assert rows["best sentence's similarity (meaning)"] == ["0.50", "0.50"]  # the English one left out
    assert rows["passage coverage of the question's terms (coverage)"] == ["0.50", "0.50"]
    assert rows["dense and BM25 both rank the top passage first"] == ["1.00", "1.00"]
    assert "2 answerable / 1 unanswerable" in report
