"""The default answerer: the best sentences of the top passages, each ending in its citation `[n]`.

Nothing is invented: every sentence of the answer is quoted from a passage. An English question over
Danish pages gets an English lead-in and the quoted Danish sentences. Abstention is decided before
this runs (evidence.py); this only writes the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.answer import AnswerRequest, register
from assistant.answer.citations import CitationList
from assistant.answer.evidence import QueryEvidence, sentences
from assistant.models import Answer
from assistant.retrieve import Passage

MAX_SENTENCES = 3
MAX_WORDS = 90
MAX_LIST_WORDS = 120  # a list the best sentence introduces may make the answer this long
MAX_ITEMS = 8
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,2}[.)])\s+")
TYPED_BONUS = 0.3  # for a sentence that states the kind of fact asked for (a price, a count, a date)

LEAD_IN = {"da": "", "en": "From the documentation (quoted in Danish):"}


@dataclass
class _Candidate:
    passage_rank: int
    position: int
    sentence: str
    score: float
    items: tuple[str, ...] = ()  # the list the sentence introduces ("... tre mødetyper:" + "- Formelle ...")
    after: tuple[str, ...] = ()  # the passage's next sentence (and the one after a next one ending in ":")
    follow: tuple[str, ...] = ()  # those, when they are quoted after this one

    @property
    def words(self) -> int:
        return sum(len(s.split()) for s in (self.sentence, *self.items, *self.follow))


@register("extractive")
class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: object = None) -> None:
        pass

    def stream(self, request: AnswerRequest) -> Iterator[str | Answer]:
        answer = self.answer(request.evidence, request.passages, request.language)
        yield from stream_words(answer.text)
        yield answer

    def answer(self, evidence: QueryEvidence, passages: Sequence[Passage], language: str) -> Answer:
        candidates: list[_Candidate] = []
        for rank, passage in enumerate(passages[:4]):
            lines = sentences(passage.chunk.text)
            for position, sentence in enumerate(lines):
                coverage = evidence.coverage_of(sentence)
                if coverage <= 0:
                    continue
                if evidence.expectation is not None and evidence.expectation.stated_in(sentence, evidence):
                    coverage += TYPED_BONUS  # "Et Micro Hackaton koster 63.000 -95.000 kr" for "hvad koster ...?"
                # Earlier passages and sentences that answer more of the question come first.
                after = _next(lines, position)
                candidates.append(_Candidate(rank, position, sentence, coverage / (1 + 0.35 * rank),
                                             _list_after(lines, position), after))
        if not candidates:  # nothing matches word for word: quote the start of the best passage
            first = sentences(passages[0].chunk.text)[:2]
            candidates = [_Candidate(0, i, s, 0.0) for i, s in enumerate(first)]
        chosen = _choose(candidates)
        chosen.sort(key=lambda c: (c.passage_rank, c.position))
        citations = CitationList()
        parts: list[str] = []
        said: set[str] = set()
        for candidate in chosen:
            lines = [_trim(candidate.sentence), *map(_item, candidate.items),
                     *(_item(line) if _LIST_ITEM.match(line) else _trim(line) for line in candidate.follow)]
            # A line the page repeats (the same step in two lists, the same sentence on two pages) is
            # said once, and a source is cited only for what is said from it.
            lines = [line for line in dict.fromkeys(lines) if line not in said]
            if not lines:
                continue
            said.update(lines)
            n = citations.cite(passages[candidate.passage_rank], candidate.sentence)
            parts.extend(f"{line} [{n}]" for line in lines)
        lead = LEAD_IN.get(language, "")
        body = "\n".join(parts) if any(p.startswith("- ") for p in parts) else " ".join(parts)
        text = f"{lead}\n{body}" if lead else body
        return Answer(text=text, answered=True, citations=citations.citations, language=language)


def _choose(candidates: list[_Candidate]) -> list[_Candidate]:
    """The best sentences within MAX_WORDS (a list the best one introduces, within MAX_LIST_WORDS);
    the best one also brings the sentence after it: the answer often follows the sentence that
    restates the question ("Velkommen til ..." → "Mit navn er Anna-Lis Berg ..."), and so does one
    that ends in a colon (the address, command or value it announces)."""
    best = max(c.score for c in candidates)
    chosen: list[_Candidate] = []
    quoted: set[tuple[int, int]] = set()  # (passage, position) already in the answer, e.g. as a list item
    words = 0
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True):
        if len(chosen) == MAX_SENTENCES or (chosen and candidate.score < 0.5 * best):
            break
        own = len(candidate.sentence.split())
        if (candidate.passage_rank, candidate.position) in quoted or (chosen and words + own > MAX_WORDS):
            continue
        candidate.items = _fit(candidate.items, MAX_LIST_WORDS - words - own)  # as many items as fit
        # The best sentence, and one that announces what follows ("I en browser åbn adressen:"),
        # bring the next line.
        announces = candidate.sentence.endswith(":")
        if (not chosen or announces) and not candidate.items and candidate.after and \
                words + own + sum(len(line.split()) for line in candidate.after) <= MAX_WORDS:
            candidate.follow = candidate.after
        chosen.append(candidate)
        extra = len(candidate.items) + len(candidate.follow)
        quoted.update((candidate.passage_rank, candidate.position + i) for i in range(extra + 1))
        words += candidate.words
    return chosen


def _next(lines: list[str], position: int) -> tuple[str, ...]:
    """The sentence after `position`, and the one after that when the first announces it
    ("En webserver starter på port 9999." → "I en browser åbn adressen:" → "http://localhost:9999"),
    or the list it introduces."""
    after = tuple(lines[position + 1 : position + 2])
    if after and after[0].endswith(":") and not _LIST_ITEM.match(after[0]):
        after += _list_after(lines, position + 1) or tuple(lines[position + 2 : position + 3])
    return after


def _list_after(lines: list[str], position: int) -> tuple[str, ...]:
    """The list items that follow a sentence introducing them: one that ends with ":" or is followed
    directly by list items, and is no list item itself."""
    sentence = lines[position]
    if _LIST_ITEM.match(sentence):
        return ()
    items: list[str] = []
    for line in lines[position + 1 :]:
        if not _LIST_ITEM.match(line) or len(items) == MAX_ITEMS:
            break
        items.append(line)
    return tuple(items) if items or sentence.endswith(":") else ()


def _fit(items: tuple[str, ...], budget: int) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        budget -= len(item.split())
        if budget < 0:
            break
        out.append(item)
    return tuple(out)


def _item(line: str) -> str:
    """A list item as a "- " line, whatever its marker was ("1.", "*", "-")."""
    return "- " + _LIST_ITEM.sub("", line, count=1).strip()


def _trim(sentence: str, limit: int = 60) -> str:
    words = sentence.split()
    return sentence if len(words) <= limit else " ".join(words[:limit]) + " …"


def stream_words(text: str) -> Iterator[str]:
    """A finished text as stream pieces (word by word, keeping spaces and line breaks)."""
    yield from re.findall(r"\S+\s*|\s+", text)
