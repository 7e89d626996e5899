"""The default answerer: the sentence of the top passages that answers, and at most two that add to it.

Nothing is invented: every sentence of the answer is quoted from a passage and ends in its citation
`[n]`. Candidate sentences are the prose of the top passages (never a heading alone, never code or a
diagram: ingest renders pages to plain text, assistant/text.py reads it back). Each is scored by the
multilingual model's similarity to the question (answer/meaning.py), plus its lexical coverage of
the question's terms, whether it states the kind of fact asked for (a price, a date, a count; for
"hvem …?" a name the question does not have), less
a little per rank of its passage; the weights are settings calibrated by bench/calibrate.py.

The answer leads with the best sentence, then adds at most two: the next line when the lead
announces it ("... på adressen:") or is too short to stand alone, the list it introduces, or
sentences of the same section that score close to it; from another page only when they cover terms
of the question the lead does not (a question that spans pages). A question that asks two things
("Hvem …, og hvornår …?") first gets, after the lead, the sentence closest to each of them (the service
scores the candidates against each part, expect.py's question_parts). A code block is quoted, as code,
when the question asks for a command, or when it is short and a quoted paragraph introduces it (a
path, a setting). An English question over Danish pages gets an English lead-in and the quoted
Danish sentences. Abstention is decided before this runs (abstain.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.answer.abstain import readable
from assistant.answer.answerer import AnswerRequest, register
from assistant.answer.citations import CitationList, not_found_answer
from assistant.answer.evidence import QueryEvidence
from assistant.answer.expect import asks_who
from assistant.answer.meaning import SentenceScorer
from assistant.models import Answer
from assistant.retrieve.language import detect_language
from assistant.retrieve.retriever import Passage
from assistant.settings import Settings
from assistant.text import CODE_FENCE, LIST_ITEM, code_after, code_blocks, sentences

MAX_WORDS = 45  # the lead and what is added to it (a list it introduces may take the answer further)
MAX_LIST_WORDS = 80
MAX_ITEMS = 8
MAX_ADDED = 2
MAX_PART_WORDS = 25  # more words a compound question's answer may take for its other questions
MAX_CODE_LINES = 3  # a code block a quoted paragraph introduces is quoted when this short (a path, a command)
MAX_CODE_CHARS = 200
SHORT_LEAD = 6  # words: a lead this short brings the line after it ("Mødeleder:" → "Anna-Lis Berg")
_LABELLED = re.compile(r"^(?:- )?[^:]{2,60}:\s*\S")  # "Målrettet leverandør: Iterator IT ApS": says it all
_WANTS_LIST = re.compile(r"\b(?:hvilke|nævn|naevn|list|which|what are)\b", re.I)
_POINTS_AHEAD = re.compile(r":\s*$|\b(?:denne|dette|disse|følgende|nedenstående|herunder|nedenfor|below|following)\b",
                           re.I)  # a sentence that refers to what comes after it
_COMMAND = re.compile(r"\b(?:kommando\w*|command\w*|terminal\w*|shell|cli|køre?r? (?:jeg|man)|run)\b", re.I)

LEAD_IN = {"da": "", "en": "From the documentation (quoted in Danish):"}
_MARKERS = re.compile(r"\s*\[\d+\]")


@dataclass
class Candidate:
    passage_rank: int
    position: int
    sentence: str
    similarity: float
    coverage: float
    typed: bool
    score: float = 0.0
    lines: list[str] = field(default_factory=list)  # what is quoted: the sentence and what it brings
    parts: tuple[float, ...] = ()  # its similarity to each question a compound one asks


def candidates(evidence: QueryEvidence, passages: Sequence[Passage], score: SentenceScorer,
               settings: Settings, parts: Sequence[SentenceScorer] = ()) -> list[Candidate]:
    """Every prose sentence of the top passages, scored (see the module docstring)."""
    found: list[Candidate] = []
    contexts: list[str] = []
    who = asks_who(evidence.text)
    for rank, passage in enumerate(passages[:settings.answer_passages]):
        for position, sentence, context in readable(passage):
            typed = evidence.states_kind(sentence) if evidence.expectation is not None else \
                who and evidence.names_someone(sentence)
            found.append(Candidate(rank, position, sentence, 0.0, evidence.coverage_of(sentence), typed))
            contexts.append(context)
    similarities = score(contexts) if found else np.zeros(0)
    per_part = np.stack([part(contexts) for part in parts], axis=1) if found and parts else np.zeros((len(found), 0))
    for candidate, similarity, own in zip(found, similarities, per_part, strict=True):
        candidate.similarity = float(similarity)
        candidate.parts = tuple(float(v) for v in own)
        candidate.score = (candidate.similarity + settings.sentence_coverage_weight * candidate.coverage
                           + settings.sentence_type_weight * candidate.typed
                           - settings.sentence_rank_penalty * candidate.passage_rank)
    return found


@register("extractive")
class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def stream(self, request: AnswerRequest) -> Iterator[str | Answer]:
        answer = self.answer(request.evidence, request.passages, request.language, request.score, request.parts)
        yield from stream_words(answer.text)
        yield answer

    def answer(self, evidence: QueryEvidence, passages: Sequence[Passage], language: str,
               score: SentenceScorer | None = None, asks: Sequence[SentenceScorer] = ()) -> Answer:
        """`asks`: a scorer per question a compound question asks (expect.py's question_parts)."""
        score = score or _no_meaning
        found = candidates(evidence, passages, score, self.settings, asks)
        citations = CitationList()
        parts: list[str] = []
        if found:
            said: set[str] = set()  # a line the page repeats (the same step in two lists) is said once
            chosen = choose(found, passages, evidence, self.settings.sentence_add_margin,
                            self.settings.sentence_neighbour_bonus)
            for candidate in chosen:
                lines = [line for line in candidate.lines if line.removeprefix("- ") not in said]
                if not lines:
                    continue
                said.update(line.removeprefix("- ") for line in lines)
                n = citations.cite(passages[candidate.passage_rank], candidate.sentence)
                parts.extend(f"{line} [{n}]" for line in lines)
        else:  # only headings, titles of empty pages or code: nothing a reader can be quoted
            return replace(not_found_answer(passages, language), reason="meaning")
        code = _code_for(evidence.text, passages, score)
        if code is not None:
            rank, block = code
            n = citations.cite(passages[rank], block.split("\n", 1)[0])
            parts.append(f"[{n}]\n{CODE_FENCE}\n{block}\n{CODE_FENCE}")
        elif (introduced := _code_introduced(chosen, passages)) is not None:
            candidate, block = introduced  # right after the sentence that points at it
            n = citations.cite(passages[candidate.passage_rank], candidate.sentence)
            at = next((i + 1 for i, part in enumerate(parts) if part.startswith(candidate.sentence)), len(parts))
            parts.insert(at, f"[{n}]\n{CODE_FENCE}\n{block}\n{CODE_FENCE}")
        # The note says the quote is in another language: only when it is (an English page quoted to an
        # English question needs none).
        quoted = detect_language(" ".join(_MARKERS.sub("", p) for p in parts if not p.startswith("[")))
        lead = LEAD_IN.get(language, "") if quoted != language else ""
        body = "\n".join(parts) if any(p.startswith(("- ", "[")) for p in parts) else " ".join(parts)
        text = f"{lead}\n{body}" if lead else body
        return Answer(text=text, answered=True, citations=citations.citations, language=language)


def choose(found: list[Candidate], passages: Sequence[Passage], evidence: QueryEvidence,
           margin: float = 0.03, neighbour: float = 0.0) -> list[Candidate]:
    """The lead and at most MAX_ADDED sentences that add to it, each with the lines it brings."""
    lines_of = {c.passage_rank: sentences(passages[c.passage_rank].chunk.text) for c in found}
    ranked = sorted(found, key=lambda c: c.score, reverse=True)
    lead = ranked[0]
    lines = lines_of[lead.passage_rank]
    quoted = {(lead.passage_rank, i) for i in _lead_lines(lead, lines, wants_list(evidence.text))}
    chosen = [lead]
    words = _words(lead.lines)
    covered = set(evidence.analyzer.analyze(" ".join(lead.lines)))
    lead_page = passages[lead.passage_rank].chunk.url
    # The sentences next to the lead come first among those that may add to it: an answer often
    # goes on in the next sentence ("Hvis en gruppe bruges … sker der et tjek" → "En computer må kun …").
    near = lambda c: c.passage_rank == lead.passage_rank and abs(c.position - lead.position) <= 1  # noqa: E731

    def add(candidate: Candidate, budget: int) -> None:
        """Quote `candidate` after the lead when it fits in `budget` words and is not quoted yet."""
        nonlocal words, covered
        place = (candidate.passage_rank, candidate.position)
        if place in quoted or words + len(candidate.sentence.split()) > budget or \
                candidate.sentence in {c.sentence for c in chosen}:
            return
        if candidate.passage_rank == lead.passage_rank and candidate.position in _list_span(lines, lead.position):
            # another item of the lead's list: the list is quoted from its intro, in the page's order
            quoted.update((lead.passage_rank, i) for i in _lead_lines(lead, lines, True))
            words = _words(lead.lines)
            return
        candidate.lines = [_trim(LIST_ITEM.sub("", candidate.sentence, count=1))]
        if candidate.sentence.endswith(":"):  # it announces what follows: the list or the next line
            brought = _lead_lines(candidate, lines_of[candidate.passage_rank], True)
            if any((candidate.passage_rank, i) in quoted for i in brought):
                return
            quoted.update((candidate.passage_rank, i) for i in brought)
        chosen.append(candidate)
        quoted.add(place)
        words += _words(candidate.lines)
        covered |= set(evidence.analyzer.analyze(" ".join(candidate.lines)))

    # A compound question ("Hvem …, og hvornår …?"): the sentence that best answers each of its
    # questions comes first among those added.
    for k in range(len(lead.parts)):
        add(max(ranked, key=lambda c: c.parts[k]), MAX_WORDS + MAX_PART_WORDS)
    for candidate in sorted(ranked[1:], key=lambda c: c.score + neighbour * near(c), reverse=True):
        if len(chosen) > MAX_ADDED or words >= MAX_WORDS:
            break
        same_section = passages[candidate.passage_rank].chunk.url == lead_page
        score = candidate.score + neighbour * near(candidate)
        if (same_section and score >= lead.score - margin) or \
                (not same_section and _new_terms(candidate.sentence, evidence, covered)
                 and score >= lead.score - margin / 2):
            add(candidate, MAX_WORDS)
    return chosen[:1] + sorted(chosen[1:], key=lambda c: (c.passage_rank, c.position))


def _lead_lines(lead: Candidate, lines: list[str], as_list: bool) -> list[int]:
    """Set what the lead quotes and return the positions it covers: the list it introduces; for a
    list item, the line that introduces it in front (the whole list when the question asks for
    one); the next line when the lead announces it or is too short to stand alone."""
    position = lead.position
    if LIST_ITEM.match(lead.sentence):
        start = position
        while start > 0 and LIST_ITEM.match(lines[start - 1]):
            start -= 1
        intro = start - 1 if start > 0 else None
        if as_list:
            items = _list_after(lines, intro) if intro is not None else lines[start:start + MAX_ITEMS]
            head = [_trim(lines[intro])] if intro is not None else []
            lead.lines = head + [_item(i) for i in _fit(items, MAX_LIST_WORDS - _words(head))]
            return list(range(start - len(head), start + len(lead.lines) - len(head)))
        item = LIST_ITEM.sub("", lead.sentence, count=1)
        lead.lines = [_trim(f"{lines[intro]} {item}" if intro is not None and lines[intro].endswith(":") else item)]
        return [position] + ([intro] if intro is not None else [])
    lead.lines = [_trim(lead.sentence)]
    items = _list_after(lines, position)
    if items:
        lead.lines += [_item(i) for i in _fit(items, MAX_LIST_WORDS - _words(lead.lines))]
        return list(range(position, position + len(lead.lines)))
    short = len(lead.sentence.split()) < SHORT_LEAD and not _LABELLED.match(lead.sentence)
    if (lead.sentence.endswith(":") or short) and position + 1 < len(lines):
        after = lines[position + 1]
        lead.lines.append(_item(after) if LIST_ITEM.match(after) else _trim(after))
        announced = _list_after(lines, position + 1) if after.endswith(":") else []  # "… gør du følgende:"
        lead.lines += [_item(i) for i in _fit(announced, MAX_LIST_WORDS - _words(lead.lines))]
        return list(range(position, position + len(lead.lines)))
    return [position]


def _list_span(lines: list[str], position: int) -> range:
    """The positions of the list the line at `position` is an item of (empty when it is none)."""
    if not LIST_ITEM.match(lines[position]):
        return range(0)
    start, end = position, position
    while start > 0 and LIST_ITEM.match(lines[start - 1]):
        start -= 1
    while end + 1 < len(lines) and LIST_ITEM.match(lines[end + 1]):
        end += 1
    return range(start, end + 1)


def wants_list(question: str) -> bool:
    """Whether the question asks for several things ("Hvilke …", "Nævn …", "What are …")."""
    return bool(_WANTS_LIST.search(question))


def _new_terms(sentence: str, evidence: QueryEvidence, covered: set[str]) -> bool:
    """Whether the sentence holds a term of the question that what is quoted so far lacks."""
    present = set(evidence.analyzer.analyze(sentence))
    return any(any(o in present and o not in covered for o in t.options) for t in evidence.terms)


def _code_for(question: str, passages: Sequence[Passage], score: SentenceScorer) -> tuple[int, str] | None:
    """The code block that answers a question asking for a command: the closest in meaning among
    the top two passages' code blocks."""
    if not _COMMAND.search(question):
        return None
    blocks = [(rank, block) for rank, p in enumerate(passages[:2]) for block in code_blocks(p.chunk.text)
              if block.strip()]
    if not blocks:
        return None
    similarities = score([block for _, block in blocks])
    return blocks[int(np.argmax(similarities))]


def _code_introduced(chosen: Sequence[Candidate], passages: Sequence[Passage]) -> tuple[Candidate, str] | None:
    """A short code block (a path, a command, a setting) right after the paragraph of a quoted
    sentence that points at it ("... ligger på denne sti.", "... følgende:"), quoted with it."""
    for candidate in chosen:
        if not _POINTS_AHEAD.search(candidate.sentence):
            continue
        block = code_after(passages[candidate.passage_rank].chunk.text, candidate.sentence)
        if block and block.strip() and block.count("\n") < MAX_CODE_LINES and len(block) <= MAX_CODE_CHARS:
            return candidate, block
    return None


def _no_meaning(texts: Sequence[str]) -> np.ndarray:
    """Without sentence vectors (a caller outside the service): lexical coverage decides alone."""
    return np.zeros(len(texts), dtype=np.float32)


def _list_after(lines: list[str], position: int) -> list[str]:
    """The list items that follow a sentence introducing them: one that ends with ":" or is followed
    directly by list items, and is no list item itself."""
    if LIST_ITEM.match(lines[position]):
        return []
    items: list[str] = []
    for line in lines[position + 1 :]:
        if not LIST_ITEM.match(line) or len(items) == MAX_ITEMS:
            break
        items.append(line)
    return items


def _fit(items: list[str], budget: int) -> list[str]:
    out: list[str] = []
    for item in items:
        budget -= len(item.split())
        if budget < 0 and out:
            break
        out.append(item)
    return out


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def _item(line: str) -> str:
    """A list item as a "- " line, whatever its marker was ("1.", "*", "-")."""
    return "- " + LIST_ITEM.sub("", line, count=1).strip()


def _trim(sentence: str, limit: int = 45) -> str:
    words = sentence.split()
    return sentence if len(words) <= limit else " ".join(words[:limit]) + " …"


def stream_words(text: str) -> Iterator[str]:
    """A finished text as stream pieces (word by word, keeping spaces and line breaks)."""
    yield from re.findall(r"\S+\s*|\s+", text)
