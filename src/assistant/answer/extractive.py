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
TYPED_BONUS = 0.3  # for a sentence that states the kind of fact asked for (a price, a count, a date)

LEAD_IN = {"da": "", "en": "From the documentation (quoted in Danish):"}


@dataclass
class _Candidate:
    passage_rank: int
    position: int
    sentence: str
    score: float


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
            for position, sentence in enumerate(sentences(passage.chunk.text)):
                coverage = evidence.coverage_of(sentence)
                if coverage <= 0:
                    continue
                if evidence.expectation is not None and evidence.expectation.stated_in(sentence, evidence):
                    coverage += TYPED_BONUS  # "Et Micro Hackaton koster 63.000 -95.000 kr" for "hvad koster ...?"
                # Earlier passages and sentences that answer more of the question come first.
                candidates.append(_Candidate(rank, position, sentence, coverage / (1 + 0.35 * rank)))
        if not candidates:  # nothing matches word for word: quote the start of the best passage
            first = sentences(passages[0].chunk.text)[:2]
            candidates = [_Candidate(0, i, s, 0.0) for i, s in enumerate(first)]
        best = max(c.score for c in candidates)
        chosen: list[_Candidate] = []
        words = 0
        for candidate in sorted(candidates, key=lambda c: c.score, reverse=True):
            if len(chosen) == MAX_SENTENCES or (chosen and candidate.score < 0.5 * best):
                break
            length = len(candidate.sentence.split())
            if chosen and words + length > MAX_WORDS:
                continue
            chosen.append(candidate)
            words += length
        chosen.sort(key=lambda c: (c.passage_rank, c.position))
        citations = CitationList()
        parts = []
        for candidate in chosen:
            n = citations.cite(passages[candidate.passage_rank], candidate.sentence)
            parts.append(f"{_trim(candidate.sentence)} [{n}]")
        lead = LEAD_IN.get(language, "")
        body = "\n".join(parts) if any(p.startswith("- ") for p in parts) else " ".join(parts)
        text = f"{lead}\n{body}" if lead else body
        return Answer(text=text, answered=True, citations=citations.citations, language=language)


def _trim(sentence: str, limit: int = 60) -> str:
    words = sentence.split()
    return sentence if len(words) <= limit else " ".join(words[:limit]) + " …"


def stream_words(text: str) -> Iterator[str]:
    """A finished text as stream pieces (word by word, keeping spaces and line breaks)."""
    yield from re.findall(r"\S+\s*|\s+", text)
