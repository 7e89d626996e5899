"""The docs-gap report: questions it could not answer (or whose answer got a 👎), grouped.

Questions are grouped greedily by the overlap of their Danish index terms (Jaccard), so that
"hvad koster medlemskab" and "pris for medlemskab af netværket" land together; each group lists
its count, example questions and the pages readers were shown. Maintainers see which pages to
write or fix. No model is needed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from assistant.retrieve.danish_analyzer import DanishAnalyzer

SAME_GROUP = 0.34


@dataclass
class Gap:
    questions: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    pages: Counter[tuple[str, str]] = field(default_factory=Counter)
    terms: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.questions)


def group_gaps(items: list[dict[str, Any]], analyzer: DanishAnalyzer) -> list[Gap]:
    gaps: list[Gap] = []
    for item in items:
        if not isinstance(item.get("question"), str):
            continue  # a damaged row: skipped, the report goes on
        terms = set(analyzer.analyze(item["question"]))
        best, best_score = None, 0.0
        for gap in gaps:
            union = terms | gap.terms
            score = len(terms & gap.terms) / len(union) if union else 0.0
            if score > best_score:
                best, best_score = gap, score
        if best is None or best_score < SAME_GROUP:
            best = Gap()
            gaps.append(best)
        best.questions.append(item["question"])
        best.reasons[item["reason"]] += 1
        best.terms |= terms
        for page in item.get("pages") or []:
            if isinstance(page, dict):
                best.pages[(str(page.get("title", "")), str(page.get("url", "")))] += 1
    return sorted(gaps, key=lambda g: g.count, reverse=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula: OWASP's advice for CSV injection is
    to prefix a cell that starts with = + - @ (or tab, return) with a single quote."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def gaps_csv(gaps: list[Gap]) -> str:
    """The report as CSV; questions are typed by anyone, so every text cell is made spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["count", "abstained", "thumbs_down", "example_questions", "closest_pages"])
    for gap in gaps:
        writer.writerow([gap.count, gap.reasons["abstained"], gap.reasons["thumbs down"],
                         spreadsheet_safe(" | ".join(list(dict.fromkeys(gap.questions))[:5])),
                         spreadsheet_safe(" | ".join(f"{t} <{u}>" for (t, u), _ in gap.pages.most_common(3)))])
    return out.getvalue()
