"""Danish text at the word level: folding, tokens, stop words, and the word lists questions are read with.

`fold` makes æ/ø/å and their typed-without spellings (ae/oe/aa, a/o/a) one string; `tokenize` splits
on non-word characters and drops the inflection after an apostrophe ("PC'erne"); `STOPWORDS` holds
Danish (and a few English) stop words in every way they get typed. The word lists below them are the
Danish (with their English counterparts) that other modules recognise by name: which language a
question is in (language.py), what refers back to the conversation (retriever.py), what kind of fact
a question asks for (answer/expect.py), which compound parts are no parts (danish_analyzer.py).

Deliberately not here: stemming, compounds and synonyms (danish_analyzer.py, which needs the
dictionary and the thesaurus), and anything about the BM25 index (lexical.py).
"""

from __future__ import annotations

import re
import unicodedata

from bm25s.stopwords import STOPWORDS_DANISH

MAX_WORD = 40  # longer "words" are hashes, URLs or unspaced CJK: never split or typo-corrected
_TOKEN = re.compile(r"[^\W_]+")  # word characters minus "_"; digits stay ("os2forms", "2026")
# Inflection after an apostrophe ("PC'erne", "POC'en", "OS2's"): the word is the part before it.
_CLITIC = re.compile(r"(?<=[^\W_])['’](?:erne|ernes|ene|en|ens|et|ets|er|ers|e|s)(?![^\W_])")
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
    """Lower-cased NFC words of `text` (digits kept), each without an inflection after an apostrophe."""
    return _TOKEN.findall(_CLITIC.sub("", unicodedata.normalize("NFC", text).lower()))


def folded_words(text: str) -> list[str]:
    """The folded words of `text`, in order (`tokenize` without the apostrophe rule): a corpus's words."""
    return _TOKEN.findall(fold(text.lower()))


# --- stop words -----------------------------------------------------------------------------------

# Question words and fillers that bm25s' Snowball list lacks, plus Lucene's English list and
# English question words. Not "by": in Danish that is a city.
EXTRA_STOPWORDS = (
    "hvornår hvis hvorledes hvorvidt jo dog bare mon vel hhv fx evt a an and are as at be but for if in"
    " into is it no not of on or such that the their then there these they this to was will with how"
    " what which who when where why do does i you my can"
).split()


def _stopwords() -> frozenset[str]:
    base = set(STOPWORDS_DANISH) | set(EXTRA_STOPWORDS)
    # Every way a stop word gets typed: "på", "paa", "pa". Folded "være" is "vare" (goods), kept.
    digraphs = {w.replace("æ", "ae").replace("ø", "oe").replace("å", "aa") for w in base}
    return frozenset(base | digraphs | ({fold(w) for w in base} - {"vare", "varet"}))


STOPWORDS = _stopwords()  # Snowball's Danish list and EXTRA_STOPWORDS, as typed, with digraphs and folded

# --- compound parts (danish_analyzer.py) ----------------------------------------------------------

# Endings, prefixes and fillers that the dictionary also lists as words; as compound parts they only
# make false splits ("arbejd·ende", "organisat·ion", "etable·ret", "borg·erne"), so never parts.
NOT_COMPOUND_PARTS = frozenset(
    "ende ene erne ernes ere eder hed heden heder heds lig lige ligt else elses elle elt ion ions ionen"
    " ioner ning ment isk iske tion ret rede ring rings ringer ringen inger inge orer ser per ler des gen"
    " kon pro gerne ren rens iver ske eren ens".split()
)

# --- which language a question is in (language.py) ------------------------------------------------

# Common words of Danish questions, as typed (with and without æ/ø/å). A question without æ/ø/å is
# English only when it has more ENGLISH_HINT_WORDS than these.
DANISH_HINT_WORDS = frozenset({
    "hvad", "hvem", "hvor", "hvordan", "hvorfor", "hvornår", "hvornar", "hvilke", "hvilken", "hvilket",
    "er", "og", "det", "den", "til", "af", "på", "paa", "med", "jeg", "kan", "skal", "man", "ikke", "om",
    "der", "som", "en", "et", "har", "mange", "meget", "bliver", "blev", "må", "ma", "sin", "hos",
})
# Common words of English questions.
ENGLISH_HINT_WORDS = frozenset({
    "what", "who", "where", "how", "why", "when", "which", "is", "are", "the", "and", "of", "to", "in",
    "on", "with", "do", "does", "can", "must", "should", "for", "a", "an", "into", "at", "least", "many",
    "much", "be", "it", "its", "their", "there", "by",
})

# --- what refers back to the conversation (retriever.py) -------------------------------------------

# Pronouns that refer back to the conversation wherever they stand. "den", "det", "de" … are also
# articles ("den juridiske overdragelse") and expletives ("Hvad koster det at være medlem?"): they are
# PRONOUNS_OR_ARTICLES, which refer back only near the end of a question.
REFERRING_PRONOUNS = frozenset("han hun hende ham dem he she her him they them".split())
# Possessives mostly point inside the question ("ledelsesfora og brugere … deres drøftelser").
POSSESSIVE_PRONOUNS = frozenset("hans hendes deres dens dets his its their".split())
PRONOUNS_OR_ARTICLES = frozenset("den det de denne dette disse it this these those".split())
# How a question that only names what else it is about starts ("Hvad med OS2forms?"), space included.
ELLIPTIC_OPENERS = ("hvad med ", "hvad så med ", "what about ", "how about ")
# How a question that continues the conversation starts ("Og hvor foregår det?"), space included.
CONTINUING_OPENERS = ("og ", "men ", "også ", "and ", "but ", *ELLIPTIC_OPENERS)
# Words that ask (also typed without æ/ø/å): a question with one asks its own question.
QUESTION_WORDS = frozenset("hvem hvad hvor hvordan hvorfor hvornår hvornar hvornaar hvorledes hvilken hvilket hvilke "
                           "who what when where which how why".split())
# "det"/"den"/"dem" right after these, or right before "også", stand for what was asked before ("Kan man
# også det på de enkelte slides?", "Hvordan gør man det på en skærm?", "Gælder det også for …?"), where
# after a verb they are mostly expletives ("Hvad betyder det for kommunerne, at …?").
STANDS_FOR_AFTER = frozenset("man jeg vi du også".split())
STANDS_FOR_BEFORE = frozenset("også igen".split())
# A word in "-e" after "den"/"det" is mostly an adjective ("den juridiske …"), so the pronoun is an
# article; these verbs are none: "skal den være klar?" refers back.
COMMON_INFINITIVES = frozenset("være blive have gøre komme gå se".split())

# --- what kind of fact a question asks for (answer/expect.py) -------------------------------------

# Numbers written as words: a count or an amount stated without digits ("tre sikkerhedsscripts").
# "én"/"ét" are one; plain "en"/"et" are the articles, a number only before "eller"/"til" ("en eller
# flere slides", "et til to år": NUMBER_BEFORE). The tens with their units are one word ("enogtyve").
_UNITS = "en to tre fire fem seks syv otte ni".split()
_TENS = "tyve tredive fyrre fyrretyve halvtreds halvtredsindstyve tres tresindstyve halvfjerds halvfjerdsindstyve " \
    "firs firsindstyve halvfems halvfemsindstyve".split()
NUMBER_WORDS = (
    "én ét een eet to tre fire fem seks syv otte ni ti elleve tolv tretten fjorten femten seksten sytten atten"
    " nitten hundrede hundred tusind tusinde million millioner milliard milliarder mio mia halvdelen dobbelt"
    " two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand dozen"
).split() + _TENS + [f"{unit}og{tens}" for unit in _UNITS for tens in _TENS]
NUMBER_BEFORE = {"en": ("eller", "til"), "et": ("eller", "til")}
# Month names and their abbreviations, Danish and English: a sentence naming one states a date.
MONTH_NAMES = (
    "januar februar marts april maj juni juli august september oktober november december jan feb mar apr"
    " jun jul aug sep sept okt oct nov dec january february march may june july october"
).split()
# Words that ask for a price, folded. Not "betale"/"pay": "Hvem betaler …?" asks who, not how much.
PRICE_WORDS = frozenset(fold(w) for w in (
    "koste koster kostede kostet pris prisen priser timepris timeprisen timepriser kontingent kontingentet"
    " gebyr gebyret honorar honoraret cost costs price prices fee fees"
).split())
# What "hvor mange …" counts when it asks a price ("hvor mange penge").
MONEY_NOUNS = frozenset("penge kroner kr midler euro money dollars".split())
# Paying, folded: "Hvor meget betaler …?" asks a price (while "Hvem betaler …?" asks who).
PAY_WORDS = frozenset(fold(w) for w in "betale betaler betalte betalt pay pays paid".split())

# Words a heading that is already a question starts with (examples.py turns headings into questions).
QUESTION_OPENERS = frozenset({"hvad", "hvem", "hvor", "hvordan", "hvorfor", "hvornår", "hvilke", "hvilken", "hvilket",
                              "kan", "skal", "må", "kræver", "findes", "sender", "virker", "hvorledes"})
# Headings naming a process too vague to ask about ("Beskrivelse af …").
VAGUE_PROCESSES = frozenset({"beskrivelse", "anbefaling", "indledning", "opsamling", "afrunding", "perspektivering"})
# "du" in a how-to becomes "jeg" in the reader's question.
PERSON = {"du": "jeg", "dig": "mig", "din": "min", "dit": "mit", "dine": "mine"}
# Words that start a sentence without naming its subject ("Det er …", "Der er …").
NOT_A_SUBJECT = frozenset({"det", "der", "den", "de", "dette", "denne", "disse", "her", "han", "hun", "vi", "man",
                           "du", "jeg", "i", "som", "hvis", "når", "alle", "nogle", "også", "så", "men", "og", "eller",
                           "en", "et", "nedenstående", "ovenstående", "følgende", "hvad", "hvor", "hvordan", "bemærk"})
