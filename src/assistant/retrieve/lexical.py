"""Lexical (BM25) retrieval: the half of hybrid retrieval that carries Danish.

`LexicalIndex` wraps bm25s over passages analysed into Danish index terms (danish_analyzer.py) and
adds what a query needs on top of BM25: typo tolerance (a query word the index has never seen is
mapped to its nearest index terms by edit distance, through a deletion-neighbourhood, SymSpell-style,
map built once), synonyms from the thesaurus at a lower weight, and less weight for words that are
common in Danish at large.

Deliberately not here: Danish analysis itself (danish.py, danish_analyzer.py), dense retrieval and
fusion of the two rankings (retriever.py), phrase or proximity scoring, and saving the index (it
rebuilds in about a second for a docs site).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from functools import lru_cache

import bm25s
import numpy as np

from assistant.retrieve.danish import MAX_WORD
from assistant.retrieve.danish_analyzer import DanishAnalyzer

FUZZY_WEIGHT = 0.8  # a typo-corrected term counts a little less than one typed right
# Each of a query word's n synonyms that the index knows weighs SYNONYM_WEIGHT / √n of the word: one
# synonym ("virkning" → effekt) counts nearly as the word, each of a word of many senses' ("gøre")
# counts little, though together they weigh more (dividing by n instead ranked worse on the dev
# sets). Paraphrased questions meet the pages' own words.
SYNONYM_WEIGHT = 0.8
MAX_FUZZY = 32  # typo look-ups per query: a pasted page of gibberish must not cost seconds
# A query word weighs less the more common it is in Danish at large: in a docs site of a few hundred
# passages, BM25's IDF alone makes everyday words ("igen", "helt", "gør") look rare and lets them
# decide the ranking. Full weight up to zipf 4.5, half at 5.5, EVERYDAY_FLOOR from 5.9 on.
EVERYDAY_ZIPF = 6.5
EVERYDAY_SPAN = 2.0
EVERYDAY_FLOOR = 0.3


def everyday_weight(zipf: float) -> float:
    """A query word's weight by how common it is in Danish (zipf: log10 per billion words)."""
    return max(EVERYDAY_FLOOR, min(1.0, (EVERYDAY_ZIPF - zipf) / EVERYDAY_SPAN))


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition counts 1); limit + 1 once above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2, prev = [0] * (len(b) + 1), list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _deletes(term: str, depth: int) -> set[str]:
    out, frontier = {term}, {term}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class LexicalIndex:
    """BM25 over analyzed passages; `search` gives (id, score) best first, positive scores only."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str], analyzer: DanishAnalyzer | None = None):
        if len(ids) != len(texts) or len(set(ids)) != len(ids):
            raise ValueError(f"need unique ids, one per text: {len(ids)} ids, {len(texts)} texts")
        self.ids = list(ids)
        self._pos = {id_: i for i, id_ in enumerate(self.ids)}
        self.analyzer = analyzer if analyzer is not None else DanishAnalyzer(texts)
        corpus = [self.analyzer.analyze(t) for t in texts]
        self._vocab: dict[str, int] = {}
        if any(corpus):  # bm25s cannot index a corpus without a single term
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
            self._vocab = {t: i for t, i in bm25.vocab_dict.items() if t}
            # bm25s keeps the BM25 matrix in CSC form: column t holds the documents' scores for term t.
            self._data, self._rows, self._ptr = (bm25.scores[k] for k in ("data", "indices", "indptr"))
        # Every term's deletions up to its typo budget: a query term within the budget of an index
        # term shares at least one deletion with it, so a look-up is a few dict probes.
        self._neighbours: dict[str, list[str]] = {}
        for term in self._vocab:
            if term.isascii() and term.isalpha() and len(term) <= MAX_WORD:
                for d in _deletes(term, 2 if len(term) >= 6 else 1 if len(term) >= 3 else 0):
                    self._neighbours.setdefault(d, []).append(term)
        self.correct = lru_cache(maxsize=50_000)(self._correct)

    def __len__(self) -> int:
        return len(self.ids)

    def document_frequency(self, term: str) -> int:
        """Passages containing the index term (0 when the index does not know it)."""
        return self._df(term) if term in self._vocab else 0

    def together(self, terms: Sequence[str]) -> bool:
        """Whether one passage has all these query terms (each as typed or typo-corrected)."""
        rows: set[int] | None = None
        for term in terms:
            found: set[int] = set()
            for option in (term,) if term in self._vocab else self.correct(term):
                t = self._vocab[option]
                found.update(self._rows[self._ptr[t] : self._ptr[t + 1]].tolist())
            rows = found if rows is None else rows & found
            if not rows:
                return False
        return True

    def _df(self, term: str) -> int:
        """Passages containing an index term (answer/evidence.py uses it, with _vocab, for IDF)."""
        t = self._vocab[term]
        return int(self._ptr[t + 1] - self._ptr[t])

    def _correct(self, term: str) -> tuple[str, ...]:
        """The nearest index terms to an unknown term (at most 2, most frequent first), or ().
        Only plain words are corrected: the deletions of a long run of letters (or of unspaced CJK)
        would cost seconds and gigabytes."""
        if not (term.isascii() and term.isalpha() and len(term) <= MAX_WORD):
            return ()
        limit = 2 if len(term) >= 8 else 1  # the typo budget
        found = {c: 0 for d in _deletes(term, limit) for c in self._neighbours.get(d, ())}
        for cand in found:
            found[cand] = _edit_distance(term, cand, limit)
        close = [c for c, dist in found.items() if dist <= limit]
        if not close:
            return ()
        nearest = min(found[c] for c in close)
        return tuple(sorted((c for c in close if found[c] == nearest), key=self._df, reverse=True)[:2])

    def search(
        self, query: str, k: int = 20, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best `k` passages for `query`, only among ids in `allowed` when given."""
        if not self._vocab or k <= 0 or not query:
            return []
        weights: dict[int, float] = {}
        fuzzy_left = MAX_FUZZY
        terms = self.analyzer.query_terms(query)
        taken = {qt.term for qt in terms}  # a synonym counts once, and never on top of an asked word
        for qt in terms:
            weight = qt.weight * everyday_weight(self.analyzer.zipf(qt.word))
            if qt.term in self._vocab:
                hits = [(qt.term, weight)]
            elif qt.fuzzy and fuzzy_left > 0:
                fuzzy_left -= 1
                hits = [(c, weight * FUZZY_WEIGHT) for c in self.correct(qt.term)]
            else:
                hits = []
            if synonyms := [s for s in self.analyzer.synonyms(qt.term) if s in self._vocab and s not in taken]:
                taken.update(synonyms)
                hits += [(s, weight * SYNONYM_WEIGHT / math.sqrt(len(synonyms))) for s in synonyms]
            for term, w in hits:
                weights[self._vocab[term]] = weights.get(self._vocab[term], 0.0) + w
        if not weights:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for t, w in weights.items():  # a column lists each document once, so += is safe
            lo, hi = self._ptr[t], self._ptr[t + 1]
            scores[self._rows[lo:hi]] += w * self._data[lo:hi]
        if allowed is None:
            rows = np.flatnonzero(scores > 0)
        else:
            rows = np.unique(np.fromiter((self._pos[a] for a in allowed if a in self._pos), dtype=np.int64))
            rows = rows[scores[rows] > 0]
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        rows = rows[np.lexsort((rows, -scores[rows]))]  # best first; ties in corpus order
        return [(self.ids[r], float(scores[r])) for r in rows]
