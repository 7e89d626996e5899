"""Scores of the assistant on questions with known answers: the JSONL question format of the dev
sets (id, question, lang, kind, history, gold[{path, heading}], facts, ...), hit@1/3/5 and MRR@10 by
page and by page + heading, abstention precision/recall, the share of the gold facts the answers
contain (an abstention contains none) beside the share the pages state word for word (the most an
answer that quotes them can hold; the rest of the facts are written in other words), what a reader
sees (answers showing markup, the median answer length in words, and whether a standalone question
asked right after the one before it gets the same answer as alone), each by question kind, as
markdown tables.

It runs no ingest: the command that ingests a site and prints these tables is bench/eval.py
(`python -m bench.eval`), which can depend on both the pipeline and the library.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.models import Turn, turns_from
from assistant.text import prose

if TYPE_CHECKING:
    from assistant.serve.service import Assistant


@dataclass
class Question:
    id: str
    question: str
    kind: str
    lang: str
    history: list[Turn]
    gold: list[dict]
    facts: list[str] = field(default_factory=list)  # short facts a correct answer contains
    split: str = ""  # "tune" or "holdout" in question sets that keep half out of all tuning

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


@dataclass
class Result:
    page_rank: int | None  # 1-based rank of the first passage on a gold page
    section_rank: int | None  # ... on a gold page under the gold heading
    answered: bool | None = None
    facts: float | None = None  # share of the question's facts the answer's text contains
    stated: float | None = None  # share of them the pages state word for word: the most a quote can hold
    words: int | None = None  # of the answer's text, citation markers left out
    markup: bool | None = None  # the answer shows markdown or HTML a reader should not see
    reason: str = ""  # the check that declined it (answer/abstain.py), "" when answered
    stable: bool | None = None  # asked after the question before it: the same answer as alone
    text: str = ""


def load_questions(file: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(Question(row["id"], row["question"], row.get("kind", "lookup"), row.get("lang", "da"),
                                      turns_from(row.get("history") or []), row.get("gold") or [], row.get("facts") or [],
                                      str(row.get("split") or "")))
        except (json.JSONDecodeError, KeyError) as exc:
            raise SystemExit(f"{file}, line {number}: not a question record ({exc})") from None
    return questions


def ranks(question: Question, ranked: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> Result:
    """ranked: (path, heading path, headings covered) per passage, best first."""
    page_rank = section_rank = None
    for rank, (path, headings, covers) in enumerate(ranked[:10], 1):
        for gold in question.gold:
            if path != gold["path"]:
                continue
            page_rank = page_rank or rank
            heading = gold.get("heading")
            if (heading is None and not headings) or (heading is not None and (heading in covers or
                                                                                 (headings and headings[-1] == heading))):
                section_rank = section_rank or rank
    return Result(page_rank, section_rank)


def _plain(text: str) -> str:
    """Lowercase letters and digits only: "63.000 -95.000 kr" and "63.000-95.000 kr" meet."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def fact_recall(facts: list[str], answer: str) -> float | None:
    """Share of facts in the answer; "erfagruppemøder (Erfagruppe møder)" accepts either spelling."""
    return facts_in(facts, _plain(answer))


def facts_in(facts: list[str], plain: str) -> float | None:
    """Share of facts in a text already made `_plain`."""
    if not facts:
        return None
    found = 0
    for fact in facts:
        spellings = [fact]
        if m := re.fullmatch(r"(.+?)\s*\((.+)\)", fact):
            spellings = [m.group(1), m.group(2)]
        found += any(_plain(s) in plain for s in spellings)
    return found / len(facts)


_MARKUP = re.compile(
    r"[|*`]|\]\(|\)\[|^\s*#{1,6}\s|</?(?:a|b|i|p|br|hr|div|span|img|table|tr|td|th|ul|ol|li|em|strong|code|pre"
    r"|h[1-6]|details|summary|sup|sub|iframe|script|style)\b[^>]*>|\{[%{]|-->|:::|^\s*>\s"
    r"|\b(?:gantt|dateFormat|flowchart|sequenceDiagram|classDef)\b|(?<!\w)__|__(?!\w)", re.M)
_MARKER = re.compile(r"\s*\[\d+\]")


def shows_markup(answer: str) -> bool:
    """Markdown, HTML, Liquid or diagram source in an answer's text: table pipes, emphasis, code
    ticks, link syntax (also the broken "(text)[url]"), heading hashes, tags. A "- " list is not, nor
    a code block quoted as code (the answer to a question that asks for a command)."""
    return bool(_MARKUP.search(_MARKER.sub("", prose(answer))))


def answer_words(answer: str) -> int:
    return len(_MARKER.sub("", answer).split())


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def metrics(rows: list[tuple[Question, Result]]) -> dict[str, float]:
    answerable = [r for q, r in rows if q.answerable]
    out: dict[str, float] = {"n": len(answerable)}
    for label, attr in (("page", "page_rank"), ("section", "section_rank")):
        values = [getattr(r, attr) for r in answerable]
        for k in (1, 3, 5):
            out[f"{label} hit@{k}"] = sum(1 for v in values if v and v <= k) / max(1, len(values))
        out[f"{label} MRR@10"] = sum(1 / v for v in values if v) / max(1, len(values))
    decided = [(q, r) for q, r in rows if r.answered is not None]
    if decided:
        abstained = [q for q, r in decided if not r.answered]
        unanswerable = [q for q, r in decided if not q.answerable]
        right = [q for q in abstained if not q.answerable]
        out["abstain precision"] = len(right) / len(abstained) if abstained else 1.0
        out["abstain recall"] = len(right) / len(unanswerable) if unanswerable else 1.0
        wrong = [q for q in abstained if q.answerable]
        out["wrong abstain rate"] = len(wrong) / max(1, sum(1 for q, _ in decided if q.answerable))
    recalls = [r.facts for q, r in rows if q.answerable and r.facts is not None]
    if recalls:
        out["answer fact recall"] = sum(recalls) / len(recalls)
    stated = [r.stated for q, r in rows if q.answerable and r.stated is not None]
    if stated:  # an answer that quotes the pages holds at most this share (the rest is paraphrased)
        out["facts on pages"] = sum(stated) / len(stated)
    shown = [r for q, r in rows if r.answered]
    if shown:
        out["markup"] = sum(1 for r in shown if r.markup) / len(shown)
        out["median words"] = _median([r.words or 0 for r in shown])
    pairs = [r.stable for q, r in rows if r.stable is not None]
    if pairs:
        out["stable"] = sum(pairs) / len(pairs)
    return out


def table(title: str, systems: dict[str, list[tuple[Question, Result]]]) -> str:
    columns = ["n", "page hit@1", "page hit@3", "page hit@5", "page MRR@10", "section hit@1", "section hit@5",
               "section MRR@10", "abstain precision", "abstain recall", "wrong abstain rate", "answer fact recall",
               "facts on pages", "markup", "median words", "stable"]
    lines = [f"### {title}", "", "| system | kind | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for system, rows in systems.items():
        kinds = sorted({q.kind for q, _ in rows})
        for kind in ["all", *kinds]:
            subset = rows if kind == "all" else [(q, r) for q, r in rows if q.kind == kind]
            m = metrics(subset)
            cells = [f"{int(m[c])}" if c == "n" else f"{m[c]:.0f}" if c == "median words" and c in m else
                     (f"{m[c]:.2f}" if c in m else "–") for c in columns]
            lines.append(f"| {system} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate(questions: list[Question], assistant: Assistant, baselines: dict[str, Callable]) -> dict:
    systems: dict[str, list[tuple[Question, Result]]] = {"assistant": []}
    previous: tuple[Question, str] | None = None  # the standalone question before, and its answer
    pages = _plain(" ".join(c.text for c in assistant.retriever.snapshot().chunks.values()))
    for q in questions:
        passages = assistant.retrieve(q.question, q.history, k=10).passages
        result = ranks(q, [(p.chunk.path, p.chunk.headings, p.chunk.covers) for p in passages])
        answer = assistant.ask(q.question, q.history)
        result.answered = answer.answered
        result.facts = fact_recall(q.facts, answer.text) if answer.answered else (0.0 if q.facts else None)
        result.stated = facts_in(q.facts, pages)
        result.words, result.markup = answer_words(answer.text), shows_markup(answer.text)
        result.reason, result.text = answer.reason, answer.text
        if not q.history:
            if previous is not None:  # the same question, asked right after an unrelated one
                history = [Turn("user", previous[0].question), Turn("assistant", previous[1])]
                after = assistant.ask(q.question, history)
                result.stable = (after.answered, after.text) == (answer.answered, answer.text)
            previous = (q, answer.text)
        systems["assistant"].append((q, result))
    for name, search in baselines.items():
        systems[name] = [(q, ranks(q, search(q.question))) for q in questions]
    return systems


def declined_by(rows: list[tuple[Question, Result]]) -> str:
    """Which check declined how many questions (answer/abstain.py), answerable and unanswerable apart."""
    counts: dict[tuple[str, bool], int] = defaultdict(int)
    for q, r in rows:
        if r.answered is False:
            counts[(r.reason or "?", q.answerable)] += 1
    if not counts:
        return "Declined: none."
    parts = [f"{reason} {n} ({'answerable' if answerable else 'unanswerable'})"
             for (reason, answerable), n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return "Declined by: " + ", ".join(parts) + "."


def write_details(file: Path, rows: list[tuple[Question, Result]]) -> None:
    """One line per question (appended): what the reader saw and why, for finding what to fix."""
    with file.open("a", encoding="utf-8") as out:
        for q, r in rows:
            out.write(json.dumps({"id": q.id, "kind": q.kind, "split": q.split, "question": q.question,
                                  "answerable": q.answerable, "answered": r.answered, "reason": r.reason,
                                  "page_rank": r.page_rank, "facts": r.facts, "stated": r.stated, "words": r.words,
                                  "markup": r.markup, "stable": r.stable, "answer": r.text},
                                 ensure_ascii=False) + "\n")
