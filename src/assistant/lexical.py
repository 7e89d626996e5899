"""Lexical (BM25) retrieval with Danish analysis: the half of hybrid retrieval that carries Danish.

The dense model is English-only, so Danish questions live or die here. The analyzer turns text into
index terms: lowercase + NFC, split on non-word characters, Danish (and a few English) stop words
out, diacritics folded (æ/ø/å and the typed-without-them spellings ae/oe/aa all meet), Snowball
Danish stemming, and compound splitting (the whole word's term plus its parts' terms). The index
wraps bm25s and adds typo tolerance: a query word the index has never seen is mapped to its nearest
index terms by edit distance, via a deletion-neighbourhood (SymSpell-style) map built once.

Deliberately not here: dense retrieval, fusion of the two rankings, phrase/proximity scoring,
persistence of the index (it rebuilds in well under a second for a docs site), and any English
stemming (English questions are the dense model's job; here they must only not break).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DANISH

DANISH_DICTIONARY = Path("/usr/share/dict/danish")
MIN_PART = 3  # "mål", "net", "by"-less: shorter pieces split almost anything into nonsense
MIN_SPLIT = 8  # words shorter than this are rarely compounds worth splitting ("netværk" stays whole)
MAX_WORD = 40  # longer "words" are hashes, URLs or unspaced CJK: never split or fuzzed
PART_WEIGHT = 0.5  # a query's compound parts count, but less than its whole words
FUZZY_WEIGHT = 0.8  # a typo-corrected term counts a little less than one typed right
_TOKEN = re.compile(r"[^\W_]+")  # word characters minus "_"; digits stay ("os2forms", "2026")
_ALPHA_RUN = re.compile(r"[a-z]{3,}")
# Question words and fillers that bm25s' Snowball list lacks; they only add noise to BM25.
_EXTRA_DA = ("hvornår", "hvis", "hvorledes", "hvorvidt", "jo", "dog", "bare", "mon", "vel", "hhv", "fx", "evt")
# Lucene's English list plus question words, minus "by" (Danish: city) so Danish text keeps it.
_EXTRA_EN = (
    "a an and are as at be but for if in into is it no not of on or such that the their then there"
    " these they this to was will with how what which who when where why do does i you my can"
).split()
# Inflectional endings and prefixes that the dictionary also lists as words; as compound parts they
# produce false splits ("arbejd·ende", "organisat·ion"), so they never count as parts.
_NOT_PARTS = frozenset("ende ene erne ere hed heden lig lige ligt else elle elt ion ning ment isk iske tion".split())
_SINGLE_FOLD = str.maketrans({"æ": "a", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u"})


def fold(word: str) -> str:
    """Diacritic folding: æ/ø/å → a/o/a first, then the digraphs aa/ae/oe → a/a/o.

    Single letters first so that every spelling (målsætning, maalsaetning, malsatning) reaches the
    same string before stemming; stemming the folded form means all three give identical terms.
    """
    word = word.translate(_SINGLE_FOLD)
    if not word.isascii():  # é, ü, ñ ...: strip combining marks, keep other scripts as they are
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return word.replace("aa", "a").replace("ae", "a").replace("oe", "o")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def _digraphs(word: str) -> str:
    return word.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")


def _build_stopwords() -> frozenset[str]:
    base = set(STOPWORDS_DANISH) | set(_EXTRA_DA)
    # Every way a stop word can be typed: "på", "paa", "pa". Folding "være" gives "vare" (goods),
    # a content word, so that one folded form is left out.
    typed = {_digraphs(w) for w in base} | ({fold(w) for w in base} - {"vare", "varet"})
    return frozenset(base | typed | set(_EXTRA_EN))


STOPWORDS = _build_stopwords()


class _Lexicon(NamedTuple):
    danish: frozenset[str]  # compound parts of 4+ letters
    short: frozenset[str]  # compound parts of 3 letters: only common words ("mål", "net", "råd")
    no_fuzz: frozenset[str]  # correctly spelled words (Danish or English): never typo-corrected


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    """Known words, folded; loaded once per process (~0.3 s), offline.

    Debian's Danish list has 312k forms with inflections (so a compound's last part may be inflected)
    but also obscure three-letter words that would split "etableret" into eta·ble·ret; three-letter
    parts must therefore be frequent (wordfreq zipf ≥ 4). English words only guard against
    "correcting" a correctly spelled English word into some Danish term.
    """
    danish: set[str] = set()
    if DANISH_DICTIONARY.exists():
        with DANISH_DICTIONARY.open(encoding="utf-8", errors="replace") as lines:
            danish.update(fold(line.strip().lower()) for line in lines)
    short: set[str] = set()
    english: set[str] = set()
    try:
        import wordfreq

        da = wordfreq.get_frequency_dict("da")
        danish.update(fold(w) for w in da)
        short.update(f for w, freq in da.items() if len(f := fold(w)) == MIN_PART and freq >= 1e-5)
        english.update(fold(w) for w in wordfreq.top_n_list("en", 50000))
    except (ImportError, OSError, LookupError):  # the dictionary alone still works, without 3-letter parts
        pass
    return _Lexicon(frozenset(danish), frozenset(short), frozenset(danish | english))


class QueryTerm(NamedTuple):
    term: str
    weight: float
    fuzzy: bool  # may be typo-corrected when the index lacks it


class _Word(NamedTuple):
    whole: str
    parts: tuple[str, ...]
    fuzzy: bool


class DanishAnalyzer:
    """Text → index terms. `vocabulary` (the corpus text or its words) adds known compound parts."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._lexicon = _lexicon()
        corpus: set[str] = set()
        for text in vocabulary:
            corpus.update(f for f in map(fold, tokenize(text)) if len(f) >= MIN_PART and f.isalpha())
        self._corpus = frozenset(corpus)
        self._stemmer = Stemmer.Stemmer("danish")
        self._stem_lock = threading.Lock()  # PyStemmer objects are not thread-safe
        # Per-instance caches: a docs corpus and its questions reuse a few thousand words.
        self._word = lru_cache(maxsize=200_000)(self._analyze_word)
        self.split = lru_cache(maxsize=200_000)(self._split)

    def analyze(self, text: str) -> list[str]:
        """Index terms of `text`, in order: each word's term followed by its compound parts' terms."""
        terms: list[str] = []
        for token in tokenize(text):
            word = self._word(token)
            if word is not None:
                terms.append(word.whole)
                terms.extend(word.parts)
        return terms

    def query_terms(self, text: str) -> list[QueryTerm]:
        """Weighted query terms: whole words 1.0, compound parts PART_WEIGHT."""
        out: list[QueryTerm] = []
        for token in tokenize(text):
            word = self._word(token)
            if word is not None:
                out.append(QueryTerm(word.whole, 1.0, word.fuzzy))
                out.extend(QueryTerm(p, PART_WEIGHT, False) for p in word.parts)
        return out

    def _stem(self, folded: str) -> str:
        with self._stem_lock:
            return self._stemmer.stemWord(folded)

    def _analyze_word(self, token: str) -> _Word | None:
        folded = fold(token)
        if token in STOPWORDS or folded in STOPWORDS or (len(folded) < 2 and not folded.isdigit()):
            return None
        whole = self._stem(folded)
        parts: list[str] = []
        if len(folded) > MAX_WORD or not folded.isascii():
            pass  # other scripts and giant tokens: one term, nothing clever
        elif folded.isalpha():
            pieces = self.split(folded)
            parts = [self._stem(p) for p in pieces if p not in STOPWORDS]
        elif any(c.isalpha() for c in folded):
            # "os2borgerpc" → also "borgerpc", so "OS2 BorgerPC" and "borgerpc" still meet it.
            for run in _ALPHA_RUN.findall(folded):
                sub = self._word(run) if run != folded else None
                if sub is not None:
                    parts += [sub.whole, *sub.parts]
        fuzzy = folded.isalpha() and 4 <= len(folded) <= MAX_WORD and folded not in self._lexicon.no_fuzz
        unique = tuple(dict.fromkeys(p for p in parts if p != whole and len(p) >= 2))
        return _Word(whole, unique, fuzzy)

    def _is_part(self, piece: str) -> bool:
        if piece in STOPWORDS or piece in _NOT_PARTS:  # "for·udsætning", "under·visning": no compounds
            return False
        if len(piece) == MIN_PART:
            return piece in self._lexicon.short
        return piece in self._lexicon.danish or piece in self._corpus

    def _split(self, word: str) -> tuple[str, ...]:
        """Compound parts of a folded word (all levels, outermost first), or () if it is not one.

        Dynamic programming over suffixes: fewest parts wins (fewer parts = fewer false splits),
        then the split whose shortest part is longest, then fewer linking letters. A linking "s"
        or "e" may follow any part but the last ("forvaltning·s·organisation"). Parts that are
        compounds themselves are split again, so "produktforvaltningsorganisation" yields
        produktforvaltning, organisation, produkt and forvaltning when the corpus knows the first.
        """
        n = len(word)
        if n < MIN_SPLIT or n > MAX_WORD or not word.isalpha():
            return ()
        # best[i]: (parts, -shortest, links, pieces) for word[i:], or None if it cannot be split
        best: list[tuple[int, int, int, tuple[str, ...]] | None] = [None] * (n + 1)
        best[n] = (0, -n, 0, ())
        for i in range(n - MIN_PART, -1, -1):
            for j in range(i + MIN_PART, n + 1):
                piece = word[i:j]
                if (i == 0 and j == n) or not self._is_part(piece):
                    continue
                ends = [(j, 0)]
                if j < n - MIN_PART and word[j] in "se":
                    ends.append((j + 1, 1))
                for k, link in ends:
                    rest = best[k]
                    if rest is None:
                        continue
                    cand = (rest[0] + 1, max(rest[1], -len(piece)), rest[2] + link, (piece, *rest[3]))
                    if best[i] is None or cand[:3] < best[i][:3]:  # type: ignore[index]
                        best[i] = cand
        top = best[0]
        if top is None or top[0] < 2:
            return ()
        out: list[str] = []
        for piece in top[3]:
            out += [piece, *self.split(piece)]
        return tuple(dict.fromkeys(out))


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (transpositions count 1), or limit + 1 when above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
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


def max_edits(term: str) -> int:
    return 2 if len(term) >= 8 else 1


class LexicalIndex:
    """BM25 over analyzed passages; `search` returns (id, score) best first, scores > 0 only."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str], analyzer: DanishAnalyzer | None = None):
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        self.ids = list(ids)
        self._pos = {id_: i for i, id_ in enumerate(self.ids)}
        self.analyzer = analyzer if analyzer is not None else DanishAnalyzer(texts)
        self._bm25 = bm25s.BM25()
        self._vocab: dict[str, int] = {}
        if self.ids:
            self._bm25.index([self.analyzer.analyze(t) for t in texts], show_progress=False)
            self._vocab = {t: i for t, i in self._bm25.vocab_dict.items() if t}
        # The BM25 score matrix in CSC form: column t holds each document's score for term t.
        sc = self._bm25.scores if self.ids else {}
        self._data, self._indices, self._indptr = sc.get("data"), sc.get("indices"), sc.get("indptr")
        # Deletion neighbourhood of every alphabetic term: deletes(query) ∩ deletes(term) is
        # non-empty for every term within the edit distance, so lookup costs a few dict probes.
        self._neighbours: dict[str, list[str]] = {}
        for term in self._vocab:
            if term.isalpha() and len(term) <= MAX_WORD:
                for d in _deletes(term, 2 if len(term) >= 6 else 1 if len(term) >= 3 else 0):
                    self._neighbours.setdefault(d, []).append(term)
        self.correct = lru_cache(maxsize=50_000)(self._correct)

    def __len__(self) -> int:
        return len(self.ids)

    def _df(self, term: str) -> int:
        t = self._vocab[term]
        return int(self._indptr[t + 1] - self._indptr[t])

    def _correct(self, term: str) -> tuple[str, ...]:
        """Nearest index terms to an unknown term: smallest edit distance, most frequent first."""
        limit = max_edits(term)
        found: dict[str, int] = {}
        for d in _deletes(term, limit):
            for cand in self._neighbours.get(d, ()):
                if cand not in found:
                    found[cand] = _edit_distance(term, cand, limit)
        close = [c for c, dist in found.items() if dist <= limit]
        if not close:
            return ()
        nearest = min(found[c] for c in close)
        return tuple(sorted((c for c in close if found[c] == nearest), key=self._df, reverse=True)[:2])

    def search(self, query: str, k: int = 20, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        if not self.ids or k <= 0 or not query:
            return []
        weights: dict[int, float] = {}
        for qt in self.analyzer.query_terms(query):
            if qt.term in self._vocab:
                hits = [(qt.term, qt.weight)]
            elif qt.fuzzy:
                hits = [(c, qt.weight * FUZZY_WEIGHT) for c in self.correct(qt.term)]
            else:
                continue
            for term, w in hits:
                t = self._vocab[term]
                weights[t] = weights.get(t, 0.0) + w
        if not weights:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for t, w in weights.items():
            lo, hi = self._indptr[t], self._indptr[t + 1]
            scores[self._indices[lo:hi]] += np.float32(w) * self._data[lo:hi]  # rows unique per column
        if allowed is not None:
            rows = np.fromiter((self._pos[a] for a in allowed if a in self._pos), dtype=np.int64)
        else:
            rows = np.flatnonzero(scores > 0)
        rows = rows[scores[rows] > 0]
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        rows = rows[np.lexsort((rows, -scores[rows]))]  # best first; ties in corpus order
        return [(self.ids[r], float(scores[r])) for r in rows]
