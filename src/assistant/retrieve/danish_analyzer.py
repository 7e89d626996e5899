"""Danish analysis: text → index terms, with the dictionary, the thesaurus and compound splitting.

The dense model is English-only, so Danish questions live or die by these terms. `DanishAnalyzer`
lowercases and normalises (NFC), splits on non-word characters, takes Danish (and a few English) stop
words out, folds diacritics (æ/ø/å and their typed-without spellings ae/oe/aa meet), stems with
Snowball Danish and splits compounds (the whole word's term plus its parts' terms) against the
Debian Danish word list, wordfreq's frequencies and the corpus's own words. The Danish thesaurus
(mythes) gives each term its synonyms' terms.

Deliberately not here: folding, tokens and the word lists (danish.py), the BM25 index and its typo
tolerance (lexical.py: a correction depends on the index's vocabulary), and English stemming (English
questions are the dense model's job; here they only must not break anything).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import Stemmer

from assistant.retrieve.danish import MAX_WORD, NOT_COMPOUND_PARTS, STOPWORDS, fold, folded_words, tokenize

DANISH_DICTIONARY = Path("/usr/share/dict/danish")  # Debian package wdanish; optional
THESAURUS = Path("/usr/share/mythes/th_da_DK.dat")  # Debian package mythes-da (LibreOffice's); optional
MIN_PART = 3  # shortest compound part ("mål", "net"); only common words may be this short
MIN_SPLIT = 8  # shorter stems are rarely compounds worth splitting ("netværk" stays whole)
PART_WEIGHT = 0.5  # a query's compound parts count, but less than its whole words
logger = logging.getLogger(__name__)
_ALPHA_RUN = re.compile(r"[a-z]{3,}")


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
        words = set(folded_words(" ".join(vocabulary)))  # one pass over the whole corpus
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
        if piece in STOPWORDS or piece in NOT_COMPOUND_PARTS:  # "for·udsætning", "under·visning" are no compounds
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
