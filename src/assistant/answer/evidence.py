"""How much of a question the retrieved passages cover: the basis of abstention and sentence choice.

Each query term (after Danish analysis and typo correction) weighs its IDF in the index; a term the
index has never seen can never be covered and weighs as much as the rarest term, less the more common
the word is in Danish at large: "Belcoms timepris" is not answered by a page that only mentions Belcom,
while a paraphrase in everyday words ("skubbet", "ifølge") is not held against the pages. English
questions are judged by the dense similarity instead (their words are not in Danish pages).

The kinds of fact a question may ask for, and how a sentence states one, are expect.py's; whether a
passage states it about the question's subject is decided here, with the question's terms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.expect import expected
from assistant.models import Chunk
from assistant.retrieve.danish import ELLIPTIC_OPENERS, NUMBER_WORDS, QUESTION_WORDS, STOPWORDS, tokenize
from assistant.retrieve.retriever import Passage, Snapshot
from assistant.text import sentences

# Unknown words by their Danish frequency (zipf): rare or unheard-of words (≤ 1) weigh fully, everyday
# words (zipf 5, "ifølge") a fifth, and never less than UNKNOWN_FLOOR.
COMMON_ZIPF = 6.0
UNKNOWN_FLOOR = 0.15
SUBJECT_COVERAGE = 0.3  # of the question's subject, around a sentence that states the fact asked for
_WORD = re.compile(r"[^\W_][\w'’-]*")  # a word as typed, hyphens and apostrophes inside it kept
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s*)[\W_]*$")  # before a sentence's first word
_WHICH = re.compile(r"\bhvilk(?:en|et|e)\s+(.+)", re.IGNORECASE)  # "hvilken X ...": X is what is asked for
_NAME = re.compile(r"(?<=[\s(\"'])[A-ZÆØÅ][\w-]+")  # a capitalised word that does not start the sentence

def _inherits_kind(follow_up: str) -> bool:
    """A follow-up with a question word of its own asks its own kind of fact (or none); one without
    ("Og for OS2forms?", "Hvad med OS2display?", "What about …?") asks what the question before it asked."""
    if expected(follow_up) is not None:
        return False
    text = follow_up.casefold().strip()
    rest = next((text[len(o):] for o in ELLIPTIC_OPENERS if text.startswith(o)), text)
    return not set(tokenize(rest)) & QUESTION_WORDS


def unknown_weight(zipf: float) -> float:
    return max(UNKNOWN_FLOOR, min(1.0, (COMMON_ZIPF - zipf) / (COMMON_ZIPF - 1.0)))


@dataclass
class _Term:
    term: str  # the question's term
    options: tuple[str, ...]  # index terms that count as this query term (typo corrections)
    weight: float


class QueryEvidence:
    def __init__(self, text: str, snapshot: Snapshot, asks: str | None = None) -> None:
        """`text`: the terms to weigh; `asks`: the question whose words say what kind of fact is asked
        for, when it is not all of `text` (a follow-up judged with the words it carries over asks what
        it asks itself: "Hvem har ansvaret …?" after "Hvornår …?" does not want a date)."""
        lexical = snapshot.lexical
        n_docs = max(1, len(lexical))

        def idf(term: str) -> float:
            df = lexical.document_frequency(term)
            return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))

        rarest = idf("\x00never")
        self.text = text
        self._lexical = lexical
        self._top_headings = snapshot.top_headings
        self.analyzer = snapshot.analyzer
        self.terms: list[_Term] = []
        self._options: dict[str, tuple[str, ...]] = {}  # query term → the index terms that count as it
        for qt in snapshot.analyzer.query_terms(text):
            if qt.term in self._options:
                continue
            if lexical.document_frequency(qt.term):
                term = _Term(qt.term, (qt.term,), qt.weight * idf(qt.term))
            elif qt.fuzzy and (corrected := lexical.correct(qt.term)):
                term = _Term(qt.term, corrected, qt.weight * max(idf(c) for c in corrected))
            else:
                term = _Term(qt.term, (), qt.weight * rarest * unknown_weight(self.analyzer.zipf(qt.word)))
            self.terms.append(term)
            self._options[qt.term] = term.options
        self.total = sum(t.weight for t in self.terms)
        self.expectation = expected(text) if asks is None or _inherits_kind(asks) else expected(asks)
        # The terms of the words that ask for it ("hvor mange", "koster"): not the question's subject.
        self._cue = frozenset(self.analyzer.analyze(self.expectation.cue)) if self.expectation else frozenset()
        # What a count counts ("kommuner"), as index terms: matched near numbers in every candidate sentence.
        noun = self.expectation.noun if self.expectation else None
        self.noun_terms = self.options_of(noun) if noun else frozenset()

    @property
    def unknown_share(self) -> float:
        """Share of the question's weight on words the documentation never uses (after typo correction)."""
        return sum(t.weight for t in self.terms if not t.options) / self.total if self.total else 1.0

    @property
    def unknown_focus(self) -> str | None:
        """The kind of thing a "hvilken X ...?" question asks for, when the documentation never
        uses that word nor a synonym of it: "Hvilket antivirusprogram anbefales?" over pages that
        never mention antivirus cannot be answered, however well "anbefales" and "BorgerPC" match."""
        which = _WHICH.search(self.text)
        if which is None:
            return None
        for token in tokenize(which.group(1)):
            terms = self.analyzer.query_terms(token)
            if not terms or token.isdigit() or token in NUMBER_WORDS:  # "hvilke fem trin", "hvilke de"
                continue
            # Known: the word, a typo correction or synonym of it, or every part of the compound
            # ("baggrundsjobs" where the pages write "baggrund" and "jobs").
            known = self._knows(terms[0].term) or (len(terms) > 1 and all(self._knows(t.term) for t in terms[1:]))
            return None if known else token
        return None

    @property
    def unknown_name(self) -> str | None:
        """A name of several capitalised words ("Active Directory") that no passage has all of: the
        question is about something the documentation never mentions (the first word of the
        question, or of a sentence in it, is capitalised anyway and does not count)."""
        tokens = [t for t in _WORD.finditer(self.text) if not _SENTENCE_START.search(self.text[: t.start()])]
        if any(t.group(0)[:1].isupper() and t.group(0).lower() in STOPWORDS for t in tokens):
            return None  # "Hvem Er …", "HVEM ER …": capitals that say nothing of names
        group: list[str] = []
        for i, token in enumerate([*tokens, None]):
            word = token.group(0) if token else ""
            joined = token is not None and group and self.text[tokens[i - 1].end() : token.start()].isspace()
            if word[:1].isupper() and (joined or not group):
                group.append(word)
                continue
            if len(group) >= 2:
                terms = [t.term for w in group for t in self.analyzer.query_terms(w)[:1]]
                if len(terms) >= 2 and not self._lexical.together(terms):
                    return " ".join(group)
            group = [word] if word[:1].isupper() else []
        return None

    def _knows(self, term: str) -> bool:
        return bool(self._lexical.document_frequency(term) or self._lexical.correct(term) or any(
            self._lexical.document_frequency(s) for s in self.analyzer.synonyms(term)))

    def options_of(self, word: str) -> frozenset[str]:
        """The index terms that count as one word of the question: itself or its typo corrections,
        and its compound parts."""
        return frozenset(o for qt in self.analyzer.query_terms(word) for o in self._options.get(qt.term, ()))

    def coverage_of(self, text: str) -> float:
        if not self.total:
            return 0.0
        present = set(self.analyzer.analyze(text))
        return sum(t.weight for t in self.terms if any(o in present for o in t.options)) / self.total

    def states_expected(self, chunk: Chunk) -> bool:
        """Whether the passage states the kind of fact the question asks for (True when it asks for
        no particular kind) about the question's subject: a sentence with, say, an amount of money,
        whose surroundings (the sentence before, the headings, the page title) hold SUBJECT_COVERAGE
        of the question's other words. A price on a workshop page does not tell what a network costs.
        A count in a section named by what it counts is about the page's subject when the page's
        title or headings name it."""
        if self.expectation is None:
            return True
        context = " ".join((chunk.title, *chunk.headings))
        lines = sentences(chunk.text)
        for i, sentence in enumerate(lines):
            if self.states_kind(sentence):
                near = " ".join(lines[max(0, i - 1) : i + 1])
                section = " ".join(self._section(chunk))
                if self.noun_terms & set(self.analyzer.analyze(section)):
                    # A section named by what the count counts ("Layout" on the page "Kalender": "Der er
                    # fire tilgængelige layout") counts it for the page: its title need only name the subject.
                    if self._names_subject(f"{context} {near}"):
                        return True
                elif self.subject_coverage(f"{context} {near}") >= SUBJECT_COVERAGE and \
                        self._names_subject(f"{section} {near}"):
                    return True
        return False

    def states_kind(self, sentence: str) -> bool:
        """Whether the sentence states a fact of the kind the question asks for (a count: of what it
        counts); False when it asks for no particular kind."""
        return self.expectation is not None and self.expectation.stated_in(sentence, self.noun_terms,
                                                                            self.analyzer.analyze)

    def names_someone(self, sentence: str) -> bool:
        """Whether a sentence names someone the question does not: a capitalised word inside it
        ("… udarbejdet af Product Owner Agnethe Moos", "… leveret af Belcom") that is no word of the
        question. Only a hint for choosing the sentence: "who" is also answered in lower case
        ("koordinationsgruppen"), so it is no reason to decline."""
        asked = {o for t in self.terms for o in t.options}
        return any(not set(self.analyzer.analyze(name)) & asked for name in _NAME.findall(sentence))

    def _section(self, chunk: Chunk) -> tuple[str, ...]:
        """The chunk's headings below the page's top heading ("Micro-Hackaton", not the H1 that is
        over the whole page); all of them on a page whose sections start at H2."""
        top = self._top_headings.get((chunk.source, chunk.path))
        return chunk.headings[1:] if chunk.headings and chunk.headings[0] == top else chunk.headings

    def _names_subject(self, text: str) -> bool:
        """Whether the text (the sentence, the one before it, its section heading: not the page's
        title) has a word of the question's subject besides what a count counts: "TEST-opsætning i 3
        kommuner" on a page about an OS2forms integration does not say how many municipalities use
        OS2forms."""
        present = set(self.analyzer.analyze(text))
        return any(t.term not in self._cue and not (set(t.options) & self.noun_terms) and
                   any(o in present for o in t.options) for t in self.terms)

    def subject_coverage(self, text: str) -> float:
        """coverage_of without the words that ask for the kind of fact ("hvor mange", "koster")."""
        subject = [t for t in self.terms if t.term not in self._cue]
        total = sum(t.weight for t in subject)
        present = set(self.analyzer.analyze(text))
        return sum(t.weight for t in subject if any(o in present for o in t.options)) / total if total else 0.0

    def best_coverage(self, passages: Sequence[Passage], top: int = 3) -> float:
        return max((self.coverage_of(p.chunk.embed_text) for p in passages[:top]), default=0.0)
