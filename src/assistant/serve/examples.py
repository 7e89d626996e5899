"""Example questions for the chat: real questions that the ingested pages answer well.

Candidates are written from the pages' own words: a heading that is a question ("Hvad er
OS2borgerPC?"), a how-to ("Sådan opsætter du Cron jobs" → "Hvordan opsætter jeg Cron jobs?"), a
process ("Installation af X" → "Hvordan foregår installation af X?"), advantages, requirements and
prices in headings, and a section's first sentence that defines something ("OS2BorgerPC er en …" →
"Hvad er OS2BorgerPC?"), states a purpose ("Formålet med X er …", "X har til formål at …") or a use
("X kan bruges til …", "X bruges til …"). `choose` keeps the candidates that the assistant itself
answers, with a high score, from the page the candidate was written from, best first and one per
page; when fewer than FILL pass, those answered from their page with a lower score fill up. A
question naming something that only its own page of a larger site names ("Hvad er OS2BorgerPC
Kiosk?" on a site about OS2display) is about another product: `peripheral`, shown only to fill up.

This module writes and ranks candidates; it neither retrieves nor judges (service.Assistant does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.models import Chunk
from assistant.retrieve.danish import NOT_A_SUBJECT, PERSON, QUESTION_OPENERS, VAGUE_PROCESSES
from assistant.text import LIST_ITEM, sentences

MAX_WORDS = 12
MAX_CHARS = 80
MAX_TRIED = 120  # candidates judged per index version (each a retrieval: ~10 ms)
FILL = 4  # examples the chat shows: lower-scored ones fill up to this many
CENTRAL_PAGES = 2  # a name fewer pages than this mention is peripheral to the site …
SITE_PAGES = 10  # … of at least this many pages (on a small site each thing has one page)

# Markup, placeholders and shouting have no place in a question ("{title}", "[produktnavn]", "xx", "HUSK").
_ODD = re.compile(r"[{}\[\]<>|=:\"`#*_\\/;]|\.\.|\bx{2,}|\bdd\.mm|https?|www\.", re.IGNORECASE)
_SHOUT = re.compile(r"\b[A-ZÆØÅ]{4,}\b")
_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*[.)]?|[a-z][.)])\s+")  # "2. ", "1.3 ", "a) "
_SUBJECT = r"(?P<subject>[\wÆØÅæøå][\w.'’\-]*(?: [\w.'’\-]+){0,3})"
_DEFINITION = re.compile(rf"^{_SUBJECT} (?:er|betyder) (?:en|et) ")
_PURPOSE = re.compile(r"^(?:formålet med (?P<of>.{3,60}?) er|(?P<subject>[\wÆØÅæøå][^,.:]{2,60}?) har "
                      r"(?:som (?:overordnet |primært )?|til )formål at) ", re.IGNORECASE)
_USE = re.compile(rf"^{_SUBJECT} kan bruges til ")
_USED_FOR = re.compile(rf"^{_SUBJECT} bruges (?:typisk |primært |især |blandt andet )?til\b")
# A product's name: a digit or a capital inside the word ("OS2BorgerPC", "BorgerPC", "GitHub"), unlike a
# place or a plain word ("Sønderborg", "Kiosk").
_NAME = re.compile(r"\b(?:[\w-]*\d[\w-]*[^\W\d_][\w-]*|[^\W\d_][\w-]*[a-zæøå][A-ZÆØÅ][\w-]*)")
_WHAT_IS = re.compile(r"^Hvad der (?=\w+(?:et|en|ne)\b)")  # a common slip: "Hvad der formålet med …"
_HOW_TO = re.compile(r"^sådan (?P<verb>\w+) du (?P<rest>[^,:;]+)", re.IGNORECASE)
_PROCESS = re.compile(r"^(?P<noun>\w+(?:ing|else|tion|ation|sering)) af (?P<rest>.+)$", re.IGNORECASE)
_HEADING_FORMS = (  # (heading pattern, question); {0} is the rest of the heading
    (re.compile(r"^(?:formål(?:et)?) (?:med|ved) (.+)$", re.IGNORECASE), "Hvad er formålet med {0}"),
    (re.compile(r"^fordele(?:ne)? ved (.+)$", re.IGNORECASE), "Hvad er fordelene ved {0}"),
    (re.compile(r"^krav(?:ene)? til (.+)$", re.IGNORECASE), "Hvilke krav er der til {0}"),
    (re.compile(r"^pris(?:en)? (?:for|på) (.+)$", re.IGNORECASE), "Hvad koster {0}"),
)


@dataclass(frozen=True)
class Candidate:
    question: str
    source: str  # the page it was written from: a good example is answered from this page
    path: str
    peripheral: bool = False  # names something only its own page names (another product)


@dataclass(frozen=True)
class Judged:
    answered: bool
    score: float  # how close the best sentence of the answer's passages is to the question
    page: tuple[str, str] | None  # (source, path) of the best passage


def candidates(chunks: Iterable[Chunk]) -> list[Candidate]:
    """Questions written from headings and first sentences, each once (case-insensitive); the pages
    take turns, so a large site does not fill the list from its first page."""
    by_page: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        by_page.setdefault((chunk.source, chunk.path), []).append(chunk)
    per_page: list[list[Candidate]] = []
    for (source, path), page in sorted(by_page.items()):
        found = [Candidate(q, source, path) for c in sorted(page, key=lambda c: c.ordinal) for q in questions_from(c)]
        if found:
            per_page.append(found)
    out: list[Candidate] = []
    seen: set[str] = set()
    for turn in range(max((len(p) for p in per_page), default=0)):
        for found in per_page:
            if turn < len(found) and found[turn].question.casefold() not in seen:
                seen.add(found[turn].question.casefold())
                out.append(found[turn])
    return _mark_peripheral(out[:MAX_TRIED], by_page)


def _mark_peripheral(found: list[Candidate], by_page: dict[tuple[str, str], list[Chunk]]) -> list[Candidate]:
    """Each candidate marked peripheral when a name in it is on fewer than CENTRAL_PAGES pages of its
    site (a site of SITE_PAGES or more)."""
    names = {name.casefold() for c in found for name in _NAME.findall(c.question.rstrip("?"))}
    pages_of: dict[str, list[str]] = {}
    for (source, _), chunks in by_page.items():
        pages_of.setdefault(source, []).append(" ".join(f"{c.title} {c.text}" for c in chunks).casefold())
    naming = {(source, name): sum(name in page for page in pages) for source, pages in pages_of.items()
              for name in names if len(pages) >= SITE_PAGES}
    return [Candidate(c.question, c.source, c.path, any(
        naming.get((c.source, name.casefold()), CENTRAL_PAGES) < CENTRAL_PAGES
        for name in _NAME.findall(c.question.rstrip("?")))) for c in found]


def choose(found: list[Candidate], judge: Callable[[str], Judged], min_score: float, limit: int,
           fill: int = FILL) -> list[str]:
    """The candidates the assistant answers from their own page with at least `min_score`, best
    first, at most one per page and `limit` in all; fewer than `fill` are filled up with those
    answered from their own page with a lower score, and last with peripheral ones."""
    kept: dict[tuple[str, str], tuple[int, float, str]] = {}  # page → (tier, −score, question): lowest first
    for candidate in found[:MAX_TRIED]:
        verdict = judge(candidate.question)
        page = (candidate.source, candidate.path)
        if not (verdict.answered and verdict.page == page):
            continue
        tier = 2 * candidate.peripheral + (verdict.score < min_score)
        ranked = (tier, -verdict.score, candidate.question)
        if ranked < kept.get(page, (9, 0.0, "")):
            kept[page] = ranked
    ranked_all = sorted(kept.values())
    best = [question for tier, _, question in ranked_all if tier == 0]
    rest = [question for tier, _, question in ranked_all if tier > 0]
    return (best + rest[:max(0, fill - len(best))])[:limit]


def questions_from(chunk: Chunk) -> list[str]:
    """The questions one section suggests: from its own heading and from its first sentence."""
    found = []
    if chunk.heading:
        found.append(from_heading(clean(chunk.heading)))
    lines = sentences(chunk.text)
    if lines:
        found.append(from_sentence(clean(LIST_ITEM.sub("", lines[0]))))
    return [q for q in found if q and fits(q)]


def clean(text: str) -> str:
    return _NUMBERED.sub("", " ".join(text.split())).strip(" .:;!—-")


def from_heading(heading: str) -> str:
    words = heading.split()
    if not words:
        return ""
    if heading.endswith("?") or words[0].casefold() in QUESTION_OPENERS:
        return question(_WHAT_IS.sub("Hvad er ", heading))
    how = how_to(heading)
    if how:
        return how
    for pattern, form in _HEADING_FORMS:
        match = pattern.match(heading)
        if match:
            return question(form.format(match[1]))
    process = _PROCESS.match(heading)
    if process and process["noun"].casefold() not in VAGUE_PROCESSES:
        return question(f"Hvordan foregår {lower_first(heading)}")
    return ""


def from_sentence(sentence: str) -> str:
    how = how_to(sentence)
    if how:
        return how
    purpose = _PURPOSE.match(sentence)
    if purpose:
        subject = purpose["of"] or purpose["subject"]
        if subject.split()[0].casefold() not in NOT_A_SUBJECT - {"en", "et"}:
            return question(f"Hvad er formålet med {lower_first(subject)}")
    for pattern, form in ((_DEFINITION, "Hvad er {0}"), (_USE, "Hvad kan {0} bruges til"),
                          (_USED_FOR, "Hvad bruges {0} til")):
        match = pattern.match(sentence)
        if match and names_a_thing(match["subject"]):
            return question(form.format(lower_first(match["subject"])))
    return ""


def how_to(text: str) -> str:
    """'Sådan opsætter du Cron jobs' → 'Hvordan opsætter jeg Cron jobs?'"""
    match = _HOW_TO.match(text)
    if not match:
        return ""
    rest = " ".join(PERSON.get(w.casefold(), w) for w in match["rest"].split())
    return question(f"Hvordan {match['verb'].lower()} jeg {rest}")


def names_a_thing(subject: str) -> bool:
    """A name or a term, not a pronoun or a sentence opening ("Det", "Nedenstående krav")."""
    words = subject.split()
    return words[0].casefold() not in NOT_A_SUBJECT and len(words) <= 4


def lower_first(text: str) -> str:
    """'Installation af X' → 'installation af X'; names (OS2forms, GitHub, POC) keep their capitals."""
    first, _, rest = text.partition(" ")
    if first[1:].islower() and not any(ch.isdigit() for ch in first):
        first = first.lower()
    return f"{first} {rest}".strip()


def question(text: str) -> str:
    text = " ".join(text.split()).rstrip(" ?.:,")
    return text[0].upper() + text[1:] + "?" if text else ""


def fits(question: str) -> bool:
    """Short enough for a button, and no markup, placeholders or shouting."""
    return (len(question) <= MAX_CHARS and 3 <= len(question.split()) <= MAX_WORDS
            and not _ODD.search(question[:-1]) and not _SHOUT.search(question))
