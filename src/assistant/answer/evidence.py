"""How much of a question the retrieved passages cover: the basis of abstention and sentence choice.

Each query term (after Danish analysis and typo correction) weighs its IDF in the index; a term the
index has never seen weighs as much as the rarest term and can never be covered, so "Belcoms
timepris" is not answered by a page that only mentions Belcom. English questions are judged by the
dense similarity instead (their words are not in Danish pages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.retrieve import Passage, Snapshot


@dataclass
class _Term:
    options: tuple[str, ...]  # index terms that count as this query term (typo corrections)
    weight: float


class QueryEvidence:
    def __init__(self, text: str, snapshot: Snapshot) -> None:
        lexical = snapshot.lexical
        n_docs = max(1, len(lexical))

        def idf(term: str) -> float:
            df = lexical.document_frequency(term)
            return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))

        rarest = idf("\x00never")
        self.analyzer = snapshot.analyzer
        self.terms: list[_Term] = []
        seen: set[str] = set()
        for qt in snapshot.analyzer.query_terms(text):
            if qt.term in seen:
                continue
            seen.add(qt.term)
            if lexical.document_frequency(qt.term):
                self.terms.append(_Term((qt.term,), qt.weight * idf(qt.term)))
            elif qt.fuzzy and (corrected := lexical.correct(qt.term)):
                self.terms.append(_Term(corrected, qt.weight * max(idf(c) for c in corrected)))
            else:
                self.terms.append(_Term((), qt.weight * rarest))
        self.total = sum(t.weight for t in self.terms)

    @property
    def unknown_share(self) -> float:
        """Share of the question's weight on words the documentation never uses (after typo correction)."""
        return sum(t.weight for t in self.terms if not t.options) / self.total if self.total else 1.0

    def coverage_of(self, text: str) -> float:
        if not self.total:
            return 0.0
        present = set(self.analyzer.analyze(text))
        return sum(t.weight for t in self.terms if any(o in present for o in t.options)) / self.total

    def best_coverage(self, passages: Sequence[Passage], top: int = 3) -> float:
        return max((self.coverage_of(p.chunk.embed_text) for p in passages[:top]), default=0.0)
