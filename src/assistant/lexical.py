"""Lexical (BM25) retrieval with Danish analysis: the half of hybrid retrieval that carries Danish.

The dense model is English-only, so Danish questions live or die here. `DanishAnalyzer` turns text
into index terms: lowercase + NFC, split on non-word characters, Danish (and a few English) stop
words out, diacritics folded (æ/ø/å and their typed-without spellings ae/oe/aa meet), Snowball Danish
stemming, and compound splitting (the whole word's term plus its parts' terms). `LexicalIndex` wraps
bm25s and adds typo tolerance: a query word the index has never seen is mapped to its nearest index
terms by edit distance through a deletion-neighbourhood (SymSpell-style) map built once.

Deliberately not here: dense retrieval and fusion of the two rankings, phrase or proximity scoring,
saving the index (it rebuilds in about a second for a docs site), and English stemming (English
questions are the dense model's job; here they only must not break anything).
"""

from __future__ import annotations

import logging
import math
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

DANISH_DICTIONARY = Path("/usr/share/dict/danish")  # Debian package wdanish; optional
THESAURUS = Path("/usr/share/mythes/th_da_DK.dat")  # Debian package mythes-da (LibreOffice's); optional
MIN_PART = 3  # shortest compound part ("mål", "net"); only common words may be this short
MIN_SPLIT = 8  # shorter stems are rarely compounds worth splitting ("netværk" stays whole)
MAX_WORD = 40  # longer "words" are hashes, URLs or unspaced CJK: never split or typo-corrected
PART_WEIGHT = 0.5  # a query's compound parts count, but less than its whole words
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
logger = logging.getLogger(__name__)
_TOKEN = re.compile(r"[^\W_]+")  # word characters minus "_"; digits stay ("os2forms", "2026")
_ALPHA_RUN = re.compile(r"[a-z]{3,}")
# Inflection after an apostrophe ("PC'erne", "POC'en", "OS2's"): the word is the part before it.
_CLITIC = re.compile(r"(?<=[^\W_])['’](?:erne|ernes|ene|en|ens|et|ets|er|ers|e|s)(?![^\W_])")
# Question words and fillers that bm25s' Snowball list lacks, plus Lucene's English list and
# English question words. Not "by": in Danish that is a city.
_EXTRA_STOP = (
    "hvornår hvis hvorledes hvorvidt jo dog bare mon vel hhv fx evt a an and are as at be but for if in"
    " into is it no not of on or such that the their then there these they this to was will with how"
    " what which who when where why do does i you my can"
).split()
# Endings, prefixes and fillers that the dictionary also lists as words; as compound parts they only
# make false splits ("arbejd·ende", "organisat·ion", "etable·ret", "borg·erne"), so never parts.
_NOT_PARTS = frozenset(
    "ende ene erne ernes ere eder hed heden heder heds lig lige ligt else elses elle elt ion ions ionen"
    " ioner ning ment isk iske tion ret rede ring rings ringer ringen inger inge orer ser per ler des gen"
    " kon pro gerne ren rens iver ske eren ens".split()
)
_MARKS = re.compile("[\u0300-\u036f]")
_FOLD = (("æ", "a"), ("ø", "o"), ("å", "a"), ("ä", "a"), ("ö", "o"), ("ü", "u"))


def fold(text: str) -> str:
    """æ/ø/å → a/o/a first, then the digraphs aa/ae/oe → a/a/o, so målsætning, maalsaetning and
    malsatning become one string *before* stemming and therefore give identical terms."""
    for letter, plain in _FOLD:  # str.replace is several times faster than str.translate here
        text = text.replace(letter, plain)
    if not text.isascii():  # é, ñ ...: decompose, drop the Latin combining marks
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return text.replace("aa", "a").replace("ae", "a").replace("oe", "o")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(_CLITIC.sub("", unicodedata.normalize("NFC", text).lower()))


def _stopwords() -> frozenset[str]:
    base = set(STOPWORDS_DANISH) | set(_EXTRA_STOP)
    # Every way a stop word gets typed: "på", "paa", "pa". Folded "være" is "vare" (goods), kept.
    digraphs = {w.replace("æ", "ae").replace("ø", "oe").replace("å", "aa") for w in base}
    return frozenset(base | digraphs | ({fold(w) for w in base} - {"vare", "varet"}))


STOPWORDS = _stopwords()


class _Lexicon(NamedTuple):
    danish: frozenset[str]  # known Danish words (compound parts of 4+ letters)
    zipf: dict[str, float]  # wordfreq's Danish frequencies, log10 per billion words
    no_fuzz: frozenset[str]  # correctly spelled Danish or English words: never typo-corrected
    synonyms: dict[str, tuple[str, ...]]  # index term → the index terms of its synonyms


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    """Known words, folded, loaded once per process and offline. Debian's list has 312k forms with
    inflections (a compound's last part is often inflected); wordfreq says how common a word is;
    English words only keep correctly spelled English from being "corrected" into Danish."""
    danish: set[str] = set()
    if DANISH_DICTIONARY.exists():  # folding the whole file at once is much faster than line by line
        danish.update(fold(DANISH_DICTIONARY.read_text(encoding="utf-8", errors="replace").lower()).split())
    zipf: dict[str, float] = {}
    english: set[str] = set()
    try:
        import wordfreq

        da = wordfreq.get_frequency_dict("da")  # fold them in one go: no folding makes a newline
        for f, freq in zip(fold("\n".join(da)).split("\n"), da.values(), strict=True):
            zipf[f] = max(zipf.get(f, 0.0), math.log10(freq) + 9)
        english.update(fold("\n".join(wordfreq.top_n_list("en", 50000))).split("\n"))
    except (ImportError, OSError, LookupError, ValueError):  # the dictionary alone works, less well
        pass
    danish.update(zipf)
    return _Lexicon(frozenset(danish), zipf, frozenset(danish | english), _synonyms(THESAURUS))


def _synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """Index term → its synonyms' index terms, from a MyThes thesaurus (LibreOffice's format: a line
    "word|senses", then per sense "(class)|synonym|synonym ..."). The words of one sense are each
    other's synonyms; phrases and hyponyms ("fugleflok (underbegreb)") are left out. About 0.6 s."""
    if not path.exists():
        logger.warning("No Danish thesaurus at %s (Debian package mythes-da): questions worded unlike "
                       "the pages find less", path)
        return {}
    lines = fold(path.read_text(encoding="utf-8", errors="replace").lower()).split("\n")
    senses: list[set[str]] = []
    i = 1  # line 0 names the encoding
    while i < len(lines):
        head, _, count = lines[i].rpartition("|")
        i += 1
        if not count.isdigit():
            continue
        for line in lines[i : i + int(count)]:
            words = {w for w in (head, *line.split("|")[1:]) if w.isalpha()}  # no phrases, no "(...)"
            if len(words) > 1:
                senses.append(words)
        i += int(count)
    vocabulary = sorted(set().union(*senses))
    stem = dict(zip(vocabulary, Stemmer.Stemmer("danish").stemWords(vocabulary), strict=True))
    out: dict[str, set[str]] = {}
    for sense in senses:
        terms = {stem[w] for w in sense}
        for term in terms:
            out.setdefault(term, set()).update(terms - {term})
    return {term: tuple(sorted(others)) for term, others in out.items() if others}


class QueryTerm(NamedTuple):
    term: str
    weight: float
    fuzzy: bool  # may be typo-corrected when the index lacks it
    word: str  # the folded word (or compound part) it comes from


class DanishAnalyzer:
    """Text → index terms. `vocabulary` (the corpus text, or its words) adds known compound parts."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._lex = _lexicon()
        words = set(_TOKEN.findall(fold(" ".join(vocabulary).lower())))  # one pass over the whole corpus
        self._corpus = frozenset(w for w in words if len(w) > MIN_PART and w.isalpha())
        self._stemmer = Stemmer.Stemmer("danish")
        self._stem_lock = threading.Lock()  # a PyStemmer object must not be used by two threads at once
        # Per-instance caches: a docs corpus and its questions reuse a few thousand words.
        self._word = lru_cache(maxsize=200_000)(self._analyze_word)
        self._split = lru_cache(maxsize=200_000)(self._split_folded)

    def analyze(self, text: str) -> list[str]:
        """Index terms of `text`, in order: each word's term, then its compound parts' terms."""
        out: list[str] = []  # the indexing hot path: every word of every passage, so no QueryTerms
        for token in tokenize(text):
            if (word := self._word(token)) is not None:
                out.append(word[0])
                out.extend(word[1])
        return out

    def query_terms(self, text: str) -> list[QueryTerm]:
        """The same terms, weighted for a query: whole words 1.0, compound parts PART_WEIGHT."""
        out: list[QueryTerm] = []
        for token in tokenize(text):
            if (word := self._word(token)) is not None:
                whole, parts, fuzzy, folded = word
                out.append(QueryTerm(whole, 1.0, fuzzy, folded))
                out.extend(QueryTerm(p, PART_WEIGHT, False, p) for p in parts)
        return out

    def synonyms(self, term: str) -> tuple[str, ...]:
        """Index terms of the synonyms of the word with index term `term` (from the thesaurus)."""
        return self._lex.synonyms.get(term, ())

    def zipf(self, word: str) -> float:
        """How common a folded word is in Danish at large (wordfreq's log10 per billion words, 0 = unknown)."""
        return self._lex.zipf.get(word, 0.0)

    def split(self, word: str) -> tuple[str, ...]:
        """Folded compound parts of `word`, all levels, outermost first; () when it is no compound."""
        return self._split(fold(word.lower()))

    def _stem(self, folded: str) -> str:
        with self._stem_lock:
            return self._stemmer.stemWord(folded)

    def _analyze_word(self, token: str) -> tuple[str, tuple[str, ...], bool, str] | None:
        """(term, compound parts' terms, may be typo-corrected, folded word); None for a stop word."""
        folded = fold(token)
        if token in STOPWORDS or folded in STOPWORDS or (len(folded) < 2 and not folded.isdigit()):
            return None
        whole, parts = self._stem(folded), []
        plain = folded.isascii() and folded.isalpha() and len(folded) <= MAX_WORD
        if plain:
            parts = [self._stem(p) for p in self._split(folded)]
        elif folded.isascii() and len(folded) <= MAX_WORD:
            # "os2borgerpc" also gives "borgerpc", so "OS2 BorgerPC" and "borgerpc" still meet it.
            for run in _ALPHA_RUN.findall(folded):
                if (sub := self._word(run)) is not None:
                    parts += [sub[0], *sub[1]]
        fuzzy = plain and len(folded) >= 4 and folded not in self._lex.no_fuzz
        return whole, tuple(dict.fromkeys(p for p in parts if p != whole and len(p) >= 2)), fuzzy, folded

    def _is_part(self, piece: str) -> bool:
        if piece in STOPWORDS or piece in _NOT_PARTS:  # "for·udsætning", "under·visning" are no compounds
            return False
        if len(piece) == MIN_PART:  # the dictionary's rare 3-letter words would give eta·ble·ret
            return self._lex.zipf.get(piece, 0.0) >= 4.0
        return piece in self._lex.danish or piece in self._corpus

    def _zipf(self, word: str) -> float:
        # Known but missing from wordfreq (rare, or only in this corpus): a low floor.
        return self._lex.zipf.get(word, 1.0 if word in self._lex.danish or word in self._corpus else 0.0)

    def _split_folded(self, word: str) -> tuple[str, ...]:
        """Dynamic programming over suffixes: fewest parts first (fewer parts, fewer false splits),
        then the most common parts (zipf sum, with 3-letter parts and linking letters penalised:
        "sikkerhed·s·krav", not "sikkerhed·skrav"). A linking "s" or "e" may follow any part but
        the last. Parts that are compounds themselves are split again, so with "produktforvaltning"
        in the corpus, "produktforvaltningsorganisation" yields it, organisation, produkt and
        forvaltning."""
        n = len(word)  # the stem's length decides, so "netværket" stays whole like "netværk"
        if n > MAX_WORD or not word.isalpha() or len(self._stem(word)) < MIN_SPLIT:
            return ()
        best: list[tuple[int, float, tuple[str, ...]] | None] = [None] * (n + 1)  # for word[i:]
        best[n] = (0, 0.0, ())
        for i in range(n - MIN_PART, -1, -1):
            for j in range(i + MIN_PART, n + 1):
                piece = word[i:j]
                if (i == 0 and j == n) or not self._is_part(piece):
                    continue
                penalty = (1.5 if j - i == MIN_PART else 0.0) - self._zipf(piece)
                links = [(j, 0)] + ([(j + 1, 1)] if j < n - MIN_PART and word[j] in "se" else [])
                for k, link in links:
                    if (rest := best[k]) is not None:
                        cand = (rest[0] + 1, rest[1] + penalty + link, (piece, *rest[2]))
                        if (cur := best[i]) is None or cand[:2] < cur[:2]:
                            best[i] = cand
        top = best[0]
        # Koehn & Knight: keep a split only if its parts are on average (geometric mean of their
        # frequencies) more common than the word itself: "organisationen" is no organ·isat·ionen.
        if top is None or sum(map(self._zipf, top[2])) / top[0] <= self._zipf(word):
            return ()
        return tuple(dict.fromkeys(p for piece in top[2] for p in (piece, *self._split(piece))))


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
