"""The eval command on both dev sets: one table per site and one for all, the targets met, both
baselines beaten."""

from __future__ import annotations

import contextlib
import io
import re
import shutil

import pytest

from bench.eval import main
from tests.conftest import BORGERPC, PRODUKTMODNING, SHARED


def _row(table: str, system: str, kind: str = "all") -> dict[str, float]:
    header = next(line for line in table.splitlines() if line.startswith("| system"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[:2] == [system, kind]:
            return {c: float(v) for c, v in zip(columns[2:], cells[2:], strict=True) if v != "–"}
    raise AssertionError(f"no row for {system} / {kind} in\n{table}")


@pytest.fixture(scope="module")
def report(index_current, index_borgerpc, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    indexes = tmp_path_factory.mktemp("eval")
    shutil.copytree(index_current, indexes / "os2produktmodning")  # already up to date: no embedding
    shutil.copytree(index_borgerpc, indexes / "os2borgerpc-docs")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--questions", str(SHARED / "eval" / "dev-os2produktmodning.jsonl"), "--source", str(PRODUKTMODNING),
                     "--questions", str(SHARED / "eval" / "dev-os2borgerpc-docs.jsonl"), "--source", str(BORGERPC),
                     "--index", str(indexes)]) == 0
    return out.getvalue()


def test_the_run_prints_one_table_per_site_and_one_for_all(report):
    titles = re.findall(r"^### (.+)$", report, re.M)
    assert titles == ["dev-os2produktmodning.jsonl on os2produktmodning",
                      "dev-os2borgerpc-docs.jsonl on os2borgerpc-docs", "all 2 question files"]
    combined = report.split("### all 2 question files")[1]
    assert int(_row(combined, "assistant")["n"]) == 45  # answerable questions of both sets
    assert int(_row(combined, "assistant", "paraphrase")["n"]) == 10


def test_the_assistant_meets_the_targets_on_the_dev_sets(report):
    combined = report.split("### all 2 question files")[1]
    mine = _row(combined, "assistant")
    assert mine["page hit@5"] >= 0.90 and mine["page MRR@10"] >= 0.75, mine
    for kind in sorted(set(re.findall(r"^\| assistant \| ([\w-]+) \|", combined, re.M)) - {"all", "unanswerable"}):
        assert _row(combined, "assistant", kind)["page hit@5"] >= 0.80, kind
    assert mine["abstain recall"] >= 0.80 and mine["wrong abstain rate"] <= 0.10, mine
    # What a reader sees: no markup, short answers, a standalone question answered as it is alone.
    assert mine["markup"] == 0 and mine["median words"] <= 45 and mine["stable"] >= 0.95, mine
    # Some dev facts are paraphrased or English: the pages state only part of them word for word.
    assert mine["answer fact recall"] <= mine["facts on pages"] < 1, mine


def test_the_assistant_beats_both_baselines_on_each_site(report):
    for site in report.split("### ")[1:3]:
        mine = _row(site, "assistant")
        for baseline in ("dense only (langchain + Chroma)", "BM25 default tokenisation"):
            theirs = _row(site, baseline)
            assert mine["page hit@5"] > theirs["page hit@5"] and mine["page MRR@10"] > theirs["page MRR@10"]
