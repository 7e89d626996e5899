"""What kind of fact a question asks for, and whether a passage states one: a classic answer-type check.

"Hvad koster …?" wants an amount of money, "Hvor mange kommuner …?" a number of municipalities,
"Hvilken dato …?" a date, "Hvornår …?" a date, a period, a time relative to another ("24 timer efter") or
the circumstances ("når kontoen er aktiveret"), "Hvor længe …?" a
duration ("op til en time", "et par minutter", "indtil den slettes"), "Hvor ofte …?" a frequency
("hver 5. minut", "to gange om året"), "telefonnummeret",
"mailadressen", "hvilken version" a phone number, an e-mail address, a version number. When none
of the best passages holds a sentence of that kind about the question's subject, the documentation
does not answer it, however well the passages match its words: a page about the network for product
managers that never names a price does not say what membership costs. Questions of other kinds
("hvordan", "hvilke") are not checked; "hvem" (`asks_who`) only hints which sentence names someone
(evidence.py's `names_someone`), it never declines.

This module owns the kinds of fact: which one a question asks for, and the patterns a sentence
states one with. What the question's words are in the index (a count's noun as index terms) is
the evidence's (evidence.py), which passes them in.

The patterns are Danish first (with the spellings typed without æ/ø/å) and English.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.retrieve.danish import (
    MONEY_NOUNS,
    MONTH_NAMES,
    NUMBER_BEFORE,
    NUMBER_WORDS,
    PAY_WORDS,
    PRICE_WORDS,
    STOPWORDS,
    fold,
    tokenize,
)

Kind = Literal["price", "count", "amount", "date", "when", "duration", "frequency", "phone", "email", "version"]

_ONE = "|".join(rf"{word}(?=\s+(?:{'|'.join(after)})\b)" for word, after in NUMBER_BEFORE.items())
_NUMBER = (rf"(?:(?<![^\W\d_])\d[\d.,:/]*(?:-\d[\d.,:/]*)?(?![^\W\d_])|\b(?:{'|'.join(NUMBER_WORDS)})\b"
           rf"|\b(?:{_ONE}))")
_MONEY = re.compile(
    rf"{_NUMBER}\s*(?:-\s*{_NUMBER}\s*)?(?:kr\b|kroner|dkk|dk\b|,-|euro|eur\b|€|\$|%|procent|percent|"
    r"mio|mia|millioner|mill?\b|tusind|t\.\s*kr)|(?:kr\.?|dkk|€|\$)\s*\d|\b(?:gratis|free of charge|"
    r"vederlagsfri\w*|uden beregning|uden betaling|ingen udgift\w*|no cost|koster ikke noget|ingen gebyr\w*"
    r"|ingen (?:ekstra )?omkostning\w*|no charge|at no (?:extra )?cost)\b",
    re.IGNORECASE,
)
_ANY_NUMBER = re.compile(_NUMBER, re.IGNORECASE)
_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d\d(?!\d)|\b\d{1,2}\.\s*(?:" + "|".join(MONTH_NAMES) + r")\b|\b(?:" + "|".join(MONTH_NAMES)
    + r")\b|\b(?:uge|week|kvartal|quarter)\s*\d|\bq[1-4]\b|\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b"
    r"|\b(?:forår|foraar|sommer|efterår|efteraar|vinter|spring|summer|autumn|fall|winter)\w*"
    r"|\b(?:mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|monday|tuesday|wednesday|thursday|friday)\w*"
    r"|\b(?:i dag|i morgen|i år|næste år|sidste år|til sommer|årligt|hvert år|månedlig\w*|ugentlig\w*)\b"
    r"|\b(?:klokken|kl\.?\s*\d|\d{1,2}[:.]\d\d\b|morgen\w*|formiddag\w*|eftermiddag\w*|aften\w*|nat|dagligt?"
    r"|hver dag|o'clock|noon|midnight|daily|weekly|monthly|yearly)"
    # a time relative to another ("24 timer efter", "efter 10 dage", "næste dag"): also an answer to "hvornår"
    r"|\b\d+\s*(?:sekunder|minutter|timer|dage|døgn|uger|måneder|seconds|minutes|hours|days|weeks|months)\b"
    r"|\b(?:næste|naeste|samme|den følgende) (?:dag|morgen|uge|måned|gang)\b|\b(?:next|same) (?:day|morning|week)\b",
    re.IGNORECASE,
)
# How long something takes or lasts: a number (or "en", "et par", "flere", "a few") of a unit of time, or
# "straks", "indtil …", "ubestemt tid". On the training sites' questions (bench/reader_data.py) the sentence
# that answers "hvor lang tid/hvor længe/how long …?" states one 55 times in 57, the near miss's 9 in 78.
_SPAN = rf"(?:{_NUMBER}|\d+(?:[.,]\d+)?|en|et|et par|flere|nogle(?: få)?|få|halvt?|an?|a few|several|many|mange)"
_UNIT = (r"(?:sekund\w*|sek\b|minut\w*|min\b|time[rn]?\w*|dag(?:e|en|ene)?\b|døgn\w*|doegn\w*|uge[rn]?\w*|"
         r"måned\w*|maaned\w*|maned\w*|år(?:et|s)?\b|aar(?:et|s)?\b|kvartal\w*|second\w*|minute\w*|hour\w*|"
         r"days?\b|weeks?\b|months?\b|years?\b|quarters?\b|s/)")
_DURATION = re.compile(
    rf"\b{_SPAN}\s*{_UNIT}|\b\d{{1,2}}[:.]\d\d\s*[-–]\s*\d{{1,2}}[:.]\d\d\b"  # 10:00–16:00
    r"|\b\d{4}-\d\d-\d\d\s*[-–]\s*\d{4}-\d\d-\d\d\b"  # from one date to another
    r"|\b(?:umiddelbart|straks|med det samme|øjeblikkelig\w*|omgående|immediately|instantly|"
    r"ubestemt tid|indefinitely|indtil|until|hele (?:sessionen|perioden|tiden)|livstid)\b",
    re.IGNORECASE,
)
# How often: "hver 5. minut", "hvert år", "dagligt", "to gange om året", "med ti sekunders interval". On the
# training sites' questions the sentence that answers "hvor ofte/how often …?" states one 33 times in 34,
# the near miss's 1 in 27 (vague words, "jævnligt", "løbende", "automatisk", are no answer to it).
_PERIOD = (r"(?:sekund\w*|minut\w*|time|dag|døgn|uge|måned|maaned|maned|år|kvartal|nat|morgen|mandag|tirsdag|"
           r"onsdag|torsdag|fredag|lørdag|søndag|second|minute|hour|day|night|week|month|year|quarter|"
           r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|gang)")
_FREQUENCY = re.compile(
    rf"\b(?:hver|hvert|hvers|every|each)\s+(?:\w+\.?\s+)?{_PERIOD}\w*"
    r"|\b(?:dagligt?|ugentlig\w*|månedlig\w*|maanedlig\w*|manedlig\w*|årlig\w*|aarlig\w*|kvartalsvis|halvårlig\w*"
    r"|daily|weekly|monthly|yearly|annually|hourly|nightly|quarterly)\b"
    r"|\b(?:\d+|en|et|to|tre|fire|fem|seks|once|twice|one|two|three|four|five)\s+gange?\b|\b(?:once|twice|\d+\s+times)\b"
    r"|\bgang(?:e)?\s+(?:om|pr\.?|per|i)\s+\w+|\b(?:ved hver\w*|hvergang|hver gang|whenever|each time|every time)\b"
    r"|\w*interval\w*|\b(?:pr\.?|per|om|i|a|an)\s+(?:sekund|minut|time|dag|døgn|uge|måned|år|second|minute|hour|day|week|"
    r"month|year)\b",
    re.IGNORECASE,
)
_HOW_OFTEN = re.compile(r"\b(?:hvor ofte|hvor tit|hvor hyppigt|how often|how frequently)\b", re.IGNORECASE)
_HOW_LONG = re.compile(r"\b(?:hvor lang tid|hvor l(?:æ|ae)nge|hvor lang(?:e)? (?:en )?periode|how long|how much time)\b",
                       re.IGNORECASE)
_COST_VERBS = frozenset(fold(w) for w in "koste koster kostede kostet".split())
_ASKING_WORDS = frozenset(fold(w) for w in "hvad hvor hvilken hvilket hvilke hvordan".split())
_ASKS_PRICE_EN = re.compile(r"\bhow much\b[^?]*\bcosts?\b|\bwhat (?:does|do|did|will|would)\b[^?]*\bcost\b"
                            r"|\bwhat (?:is|are|was|were) the\b[^?]{0,20}\b(?:price|cost|fee)s?\b"
                            r"|\b(?:price|cost|fee)s? (?:of|for)\b", re.IGNORECASE)
# A question whose sentence asks something else first ("Kan jeg se, hvor mange …?", "Hvor finder jeg, hvor
# mange …?", "Er der en grænse for, hvor mange …?"): the count is what it is about, not what it asks for.
# On the training sites' count questions: answerable ones wrongly declined 43 → 38 of 117, near misses
# declined 171 → 170 of 234.
_ASKED_BEFORE = re.compile(r"^\W*(?:kan|er|skal|må|maa|findes|har|vil|bør|boer|can|is|are|do|does|will|should)\b"
                           r"|\b(?:hvad|hvem|hvordan|hvorfor|hvor(?! mange)|hvilke[nt]?|what|who|how(?! many)|why|where|"
                           r"which)\b", re.IGNORECASE)
_CLAUSES = re.compile(r"[.!?;]|,\s*(?:og|and)\b|\s[-–]\s")  # where a question of its own may start
_COUNT = re.compile(r"\b(?:hvor mange|how many|antal(?:let)? (?:af )?|number of)\s+(\w+)", re.IGNORECASE)
_AMOUNT = re.compile(r"\b(?:hvor meget|how much)\b", re.IGNORECASE)
_WHICH_DATE = re.compile(r"\b(?:hvilken dato|what date|hvilket år|hvilket aar|which year)\b", re.IGNORECASE)
# "when" asks only where a question or a clause of it starts ("What does it do when it checks in?" does not).
_WHEN = re.compile(r"\b(?:hvornår|hvornar|hvornaar)\b|(?:^|[,;]\s*|\b(?:and|or)\s+)when\b", re.IGNORECASE)
# "Hvornår …?" is answered by a time as often as by the circumstances ("når du har aktiveret din konto",
# "hvis postkassen er fuld", "efter én måned"): on the training sites' questions the answering sentence
# states a date 61 times in 116, a date, a condition, a duration or a frequency 99 times (the near miss's
# careless sentence 14 and 22 times in 83).
_CONDITION = re.compile(r"\b(?:når|naar|hvis|såfremt|efter at|før|inden|så snart|senest|indtil|i forbindelse med|"
                        r"when|whenever|if|once|after|before|as soon as|until|upon)\b", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")  # "marts 2026 om scripts" counts no scripts
# A phone number, an e-mail address, a version asked for by name ("telefonnummeret", "mailadressen",
# "hvilken version"), and how a sentence states one.
_ASKS = {
    "phone": re.compile(r"\b(?:telefonnummer\w*|telefon ?nr\w*|tlf\.?(?:nr\w*)?|mobilnummer\w*|phone number\w*)",
                        re.IGNORECASE),
    "email": re.compile(r"\b(?:e-?mail-?adresse\w*|mailadresse\w*|e-?mail address\w*)", re.IGNORECASE),
    "version": re.compile(r"\b(?:hvilke[nt]? versioner?|hvilken udgave|which versions?|what version)\b", re.IGNORECASE),
}
_STATES = {
    "phone": re.compile(r"(?<!\d)(?:\+45\s?)?\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?!\d)"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "version": re.compile(r"(?<![\w.])(?:v\d+|\d+(?:\.\d+)+)(?![\w.])|\bversion\s+\d+", re.IGNORECASE),
}
NEAR = 3  # a count's number stands at most this many words before its noun ("5 eller flere computere")
PRICE_AFTER_ASKING = 4  # a price noun asks for a price this many words after a question word at most


@dataclass(frozen=True)
class Expectation:
    kind: Kind
    cue: str  # the question's words that ask for it ("hvor mange", "koster"): not its subject
    noun: str | None = None  # what a count counts ("kommuner")

    @property
    def specific(self) -> bool:
        """Specific enough to prefer passages that state it (an amount of money, a count of a noun);
        dates and bare numbers are in too many passages for that. Durations and frequencies neither: on the
        training sites, preferring passages that state one let 14 more of 105 near misses through and
        answered 4 more of 92 answerable questions (bench/reader_data.py's questions, BENCHMARKS.md)."""
        return self.kind in ("price", "phone", "email") or (self.kind == "count" and self.noun is not None)

    def stated_in(self, sentence: str, noun_terms: frozenset[str], analyze: Callable[[str], Iterable[str]]) -> bool:
        """Does this sentence state a fact of the expected kind? A count's number must stand before a
        word whose index terms (`analyze`) meet `noun_terms`, those of what the question counts."""
        if self.kind == "price":
            return bool(_MONEY.search(sentence))
        if self.kind == "date":
            return bool(_DATE.search(sentence))
        if self.kind == "when":
            return any(p.search(sentence) for p in (_DATE, _CONDITION, _DURATION, _FREQUENCY))
        if self.kind == "frequency":
            return bool(_FREQUENCY.search(sentence))
        if self.kind == "duration":
            return bool(_DURATION.search(sentence))
        if self.kind == "amount":
            return bool(_ANY_NUMBER.search(sentence))
        if self.kind in _STATES:
            return bool(_STATES[self.kind].search(sentence))
        if not noun_terms:  # no noun, or one the pages never use (an English question): any number
            return bool(_ANY_NUMBER.search(sentence))
        words = tokenize(sentence)
        numbers = [i for i, w in enumerate(words) if (_ANY_NUMBER.fullmatch(w) and not _YEAR.fullmatch(w))
                   or words[i + 1 : i + 2] and words[i + 1] in NUMBER_BEFORE.get(w, ())]
        return any(set(analyze(w)) & noun_terms
                   for i in numbers for w in words[i + 1 : i + 1 + NEAR])


def _asks_price(question: str, words: list[str]) -> bool:
    """Whether the question asks what something costs ("Hvad koster …?", "Hvad er Belcoms timepris?",
    "What does it cost?"), not about prices ("Kan man tilbageføre et gebyr?", "Hvad sker der, hvis jeg
    ændrer prisen …?"): a form of "koste", or a price noun a few words after a question word. Of the
    training sites' answerable questions with a price word, the answering sentence states an amount for
    none of the 8 that do not ask this way, for 9 of the 11 that do."""
    for i, word in enumerate(words):
        folded = fold(word)
        if folded in _COST_VERBS or (folded in PRICE_WORDS and
                                     any(fold(w) in _ASKING_WORDS for w in words[max(0, i - PRICE_AFTER_ASKING) : i])):
            return True
    return bool(_ASKS_PRICE_EN.search(question))


def expected(question: str) -> Expectation | None:
    """The kind of fact the question asks for, or None when it is not one of the checked kinds."""
    count = _COUNT.search(question)
    if count is not None and _ASKED_BEFORE.search(_CLAUSES.split(question[: count.start()])[-1]):
        count = None
    money = count is not None and fold(count.group(1).lower()) in MONEY_NOUNS  # "hvor mange penge"
    if count and not money:
        # "hvor mange der rammes", "how many are there": a function word names nothing counted
        noun = None if count.group(1).lower() in STOPWORDS else count.group(1)
        return Expectation("count", count.group(0), noun)
    words = tokenize(question)
    price = [w for w in words if fold(w) in PRICE_WORDS] if _asks_price(question, words) else []
    if price or money:
        return Expectation("price", " ".join(price + ([count.group(0)] if count else [])))
    if amount := _AMOUNT.search(question):
        if pay := [w for w in words if fold(w) in PAY_WORDS]:
            return Expectation("price", " ".join([amount.group(0), *pay]))
        return Expectation("amount", amount.group(0))
    for kind, asks in _ASKS.items():
        if cue := asks.search(question):
            return Expectation(kind, cue.group(0))  # type: ignore[arg-type]
    if how_often := _HOW_OFTEN.search(question):
        return Expectation("frequency", how_often.group(0))
    if how_long := _HOW_LONG.search(question):
        return Expectation("duration", how_long.group(0))
    if date := _WHICH_DATE.search(question):
        return Expectation("date", date.group(0))
    if when := _WHEN.search(question):
        return Expectation("when", when.group(0))
    return None



_WHO = re.compile(r"\b(?:hvem|who|whom|whose)\b", re.IGNORECASE)
_ASKING = (r"(?:hvad|hvem|hvorn(?:å|a|aa)r|hvordan|hvorfor|hvor|hvilke[nt]?|what|who|when|where|how|why|which)\b")
# Where a second question starts: after a comma, a dash or a question mark ("…?, og hvad …", "… – og
# hvornår …"), or at "og"/"and" before a question word ("Hvem står for X og hvornår …").
_NEXT_PART = re.compile(rf"(?:[,;?]|\s[-–])\s*(?:(?:og|and|men|but)\s+)?(?={_ASKING})|\s(?:og|and)\s+(?={_ASKING})",
                        re.IGNORECASE)
MIN_PART_WORDS = 3  # "… og hvorfor?" is no question of its own


def asks_who(question: str) -> bool:
    return bool(_WHO.search(question))


def question_parts(question: str) -> list[str]:
    """The questions a compound question asks ("Hvem står for mødet, og hvornår holdes det?" → two),
    each of at least MIN_PART_WORDS words; [] for a question that asks one thing."""
    parts = [p.strip(" ,;?–-") for p in _NEXT_PART.split(question)]
    parts = [p for p in parts if len(p.split()) >= MIN_PART_WORDS]
    return parts if len(parts) > 1 else []
