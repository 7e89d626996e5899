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

from assistant.lexical import DanishAnalyzer

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
            best.pages[(page.get("title", ""), page.get("url", ""))] += 1
    return sorted(gaps, key=lambda g: g.count, reverse=True)


def gaps_csv(gaps: list[Gap]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["count", "abstained", "thumbs_down", "example_questions", "closest_pages"])
    for gap in gaps:
        writer.writerow([gap.count, gap.reasons["abstained"], gap.reasons["thumbs down"],
                         " | ".join(list(dict.fromkeys(gap.questions))[:5]),
                         " | ".join(f"{t} <{u}>" for (t, u), _ in gap.pages.most_common(3))])
    return out.getvalue()
