"""The citation markers of an LLM reply: `[n]` source numbers read, checked and renumbered.

A reply cites its numbered sources with markers such as "[1]", "[1, 3]", "[2-4]" or "[Kilde 1]".
`check_reply` turns the reply into the final Answer: markers that point at no source are dropped, the
others are renumbered to citation numbers in order of first use, each citation pointing at the
passage sentence its statement rests on. A reply without any valid marker is either the model saying
it cannot find the answer (the abstention) or unusable (None: the caller falls back).

It does not build prompts (prompts.py) or talk to the model (llm.py); the Citation objects and the
abstention answer come from citations.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.answer.answerer import AnswerRequest
from assistant.answer.citations import NOT_FOUND, CitationList, not_found_answer
from assistant.models import Answer
from assistant.retrieve.retriever import Passage
from assistant.text import sentences, split_sentences

_ITEM = r"\d{1,3}(?:\s*[-–]\s*\d{1,3})?"
MARKER = re.compile(rf"\[\^?\s*(?:(?:kilder?|sources?)\s*)?({_ITEM}(?:\s*[,;]\s*{_ITEM})*)\s*\]", re.IGNORECASE)
_NOT_FOUND_HINT = re.compile(
    r"kan ikke finde|kunne ikke finde|ikke (?:finde|fundet)|findes ikke|står ikke|fremgår ikke|ingen oplysning"
    r"|(?:can't|cannot|can not|couldn't|could not|unable to) find|not (?:mentioned|covered|found|stated)"
    r"|(?:do|does|did) not (?:say|answer|mention|contain)|no information",
    re.IGNORECASE,
)


def strip_markers(text: str) -> str:
    """`text` without its citation markers (the spaces around them stay)."""
    return MARKER.sub("", text)


def marker_numbers(marker: str) -> list[int]:
    """The source numbers of one marker: "[1]" → [1], "[1, 3]" → [1, 3], "[2-4]" → [2, 3, 4]."""
    numbers: list[int] = []
    for item in re.split(r"\s*[,;]\s*", marker.strip("[]^ ")):
        item = re.sub(r"(?i)^(?:kilder?|sources?)\s*", "", item)
        if m := re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", item):
            low, high = int(m[1]), int(m[2])
            numbers.extend(range(low, high + 1) if 0 < high - low < 10 else (low, high))
        elif item.isdigit():
            numbers.append(int(item))
    return numbers


def renumber(text: str, resolve: Callable[[int, str], int | None]) -> tuple[str, list[int]]:
    """Rewrite the markers of `text`: each run of markers ("[1]", "[1, 2]", "[1][2]") becomes the
    citation numbers `resolve(source_number, statement)` gives, as "[a][b]"; sources it returns None for
    are dropped, and a run with none left disappears with the space before it. Returns the new text and
    the citation numbers used."""
    out: list[str] = []
    used: list[int] = []
    pos = 0
    matches = list(MARKER.finditer(text))
    i = 0
    while i < len(matches):
        start, end = matches[i].start(), matches[i].end()
        numbers = marker_numbers(matches[i].group(0))
        j = i + 1
        while j < len(matches) and not text[end:matches[j].start()].strip():
            numbers += marker_numbers(matches[j].group(0))
            end = matches[j].end()
            j += 1
        head = text[pos:start]
        statement = _statement(text[:start])
        cited: list[int] = []
        for number in numbers:
            n = resolve(number, statement)
            if n is not None and n not in cited:
                cited.append(n)
        if cited:
            out.append(head + "".join(f"[{n}]" for n in cited))
            used.extend(n for n in cited if n not in used)
        else:
            head = head.rstrip(" \t")
            out.append(head)
            if not head or head.endswith("\n"):  # a dropped run at the start of a line: no space left there
                end += len(text[end:]) - len(text[end:].lstrip(" \t"))
        pos, i = end, j
    out.append(text[pos:])
    return "".join(out).strip(), used


def _statement(before: str) -> str:
    """The sentence a marker stands after (without other markers)."""
    lines = [line for line in strip_markers(before).split("\n") if line.strip()]
    parts = split_sentences(lines[-1]) if lines else []
    return parts[-1] if parts else ""


def check_reply(text: str, request: AnswerRequest, sources: Sequence[Passage], language: str) -> Answer | None:
    """The final Answer for the model's reply to the numbered `sources`, or None when it cites no
    valid source and is not a "cannot find it" (the caller then falls back to the extractive answer)."""
    citations = CitationList()

    def resolve(number: int, statement: str) -> int | None:
        if not 1 <= number <= len(sources):
            return None
        passage = sources[number - 1]
        return citations.cite(passage, supporting_sentence(passage, statement, request))

    phrase = re.escape(_fold(NOT_FOUND[language]).rstrip("."))
    if re.match(rf"{phrase}\s*[.!]?(?:\s|$)", _fold(strip_markers(text))):  # the reply the prompt asks for
        return not_found_answer(request.passages, language)
    new_text, used = renumber(text, resolve)
    if not used:
        if _NOT_FOUND_HINT.search(text):
            return not_found_answer(request.passages, language)
        return None
    return Answer(text=new_text, answered=True, citations=citations.citations, language=language)


def supporting_sentence(passage: Passage, statement: str, request: AnswerRequest) -> str:
    """The passage sentence that shares most words with the model's statement (for the text-fragment
    link), or "" when none shares at least two."""
    if not statement:
        return ""
    analyzer = request.evidence.analyzer
    wanted = set(analyzer.analyze(statement))
    best, best_overlap = "", 1
    for sentence in sentences(passage.chunk.text):
        overlap = len(wanted & set(analyzer.analyze(sentence)))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def _fold(text: str) -> str:
    return " ".join(text.replace("’", "'").lower().split()).strip("\"'“”«» ")
