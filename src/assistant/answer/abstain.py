"""Whether the documentation answers a question: a few calibrated signals, each a named check.

The checks run in order and the first that fails declines, naming itself as the reason (the eval
tool reports which check declined each question):

- `no-passages` — nothing was retrieved.
- `no-subject` — the question refers back ("Hvor foregår det?") to a conversation that names nothing
  (no earlier user turn), and names at most one thing itself.
- `meaning` — no sentence of the best passages is close in meaning to the question: the multilingual
  model's cosine of the best sentence is below `abstain_sentence` (`abstain_sentence_english` for
  English questions over Danish pages, whose similarities run lower).
- `coverage` — (Danish) the best passages hold less than `abstain_coverage` of the question's
  weighted terms (IDF, after Danish analysis and typo correction).
- `unknown-words` — (Danish) more than `abstain_unknown` of the question's weight is on words the
  pages never use: the topic is not in the docs.
- `unknown-focus` — "hvilken X …?" where the pages never use X nor a synonym: nothing to choose from.
- `unknown-name` — (Danish) a name of several capitalised words that no passage has all of.
- `answer-type` — the question asks for a price, a count, a date or time, a duration, a frequency, a
  phone number, an e-mail address or a version, and none of the best passages states one about its
  subject (answer/expect.py): no sentence of that kind sits among the question's words, nor, for an
  English question over Danish pages (whose words the pages do not share), is one close in meaning to
  it (`abstain_typed`).

The thresholds are settings, calibrated leave-one-site-out (BENCHMARKS.md, bench/calibrate.py). It
does not write answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from assistant.answer.evidence import QueryEvidence
from assistant.answer.meaning import SentenceScorer
from assistant.retrieve.retriever import Passage
from assistant.settings import Settings
from assistant.text import sentences, sentences_in_context


@dataclass
class Verdict:
    answer: bool
    reason: str  # the check that declined; "" when answered
    sentence: float = 0.0  # best sentence similarity


@dataclass
class Signals:
    """What the checks look at, computed once per question."""

    evidence: QueryEvidence  # of the query judged (a follow-up: with the terms it carries over)
    asked: QueryEvidence  # of the question as asked (its own names and "hvilken X")
    passages: list[Passage]
    language: str
    sentence: float  # the best sentence's similarity to the question
    coverage: float
    typed: float  # the best similarity of a sentence stating the kind of fact asked for (0: none)
    dangling: bool  # refers back to a conversation that names nothing
    type_passages: int  # passages searched for the kind of fact asked for (settings.answer_type_passages)

    @cached_property
    def states_type(self) -> bool:
        """A sentence of the kind asked for sits among the question's words in a best passage."""
        return self.evidence.expectation is None or \
            any(self.evidence.states_expected(p.chunk) for p in self.passages[:self.type_passages])

    @cached_property
    def unknown_focus(self) -> str | None:
        return self.asked.unknown_focus

    @cached_property
    def unknown_name(self) -> str | None:
        return self.asked.unknown_name

    @cached_property
    def unknown_share(self) -> float:
        return self.evidence.unknown_share


Check = Callable[[Signals, Settings], bool]  # True: passes


def best_sentence(passages: Sequence[Passage], score: SentenceScorer, top: int,
                  keep: Callable[[str], bool] | None = None) -> float:
    """The highest similarity to the question of a prose sentence of the top passages (that `keep`
    accepts)."""
    contexts = [context for p in passages[:top] for _, line, context in readable(p) if keep is None or keep(line)]
    return float(max(score(contexts), default=0.0)) if contexts else 0.0


def readable(passage: Passage) -> list[tuple[int, str, str]]:
    """(position, sentence, the sentence in context as embedded) for each prose sentence of a
    passage that is not a heading alone."""
    lines = sentences(passage.chunk.text)
    contexts = sentences_in_context(passage.chunk)
    return [(i, line, context) for i, (line, context) in enumerate(zip(lines, contexts, strict=True))
            if not is_heading(line, passage)]


def signals(evidence: QueryEvidence, asked: QueryEvidence, passages: list[Passage], language: str,
            score: SentenceScorer, settings: Settings, dangling: bool = False) -> Signals:
    top = settings.answer_type_passages
    typed = best_sentence(passages, score, top, evidence.states_kind) if evidence.expectation is not None else 0.0
    return Signals(evidence, asked, passages, language, best_sentence(passages, score, settings.meaning_passages),
                   evidence.best_coverage(passages), typed, dangling and len(asked.terms) <= 1, top)


def is_heading(sentence: str, passage: Passage) -> bool:
    """A line that only repeats the page title or a heading (a merged section keeps its heading as a
    line; an empty page's only text is its title): never an answer."""
    chunk = passage.chunk
    line = sentence.strip().rstrip(":").strip().casefold()
    return line in {h.strip().rstrip(":").strip().casefold() for h in (chunk.title, *chunk.headings, *chunk.covers)}


CHECKS: tuple[tuple[str, Check], ...] = (
    ("no-subject", lambda s, c: not s.dangling),
    ("meaning", lambda s, c: s.sentence >= (c.abstain_sentence_english if s.language == "en" else c.abstain_sentence)),
    ("coverage", lambda s, c: s.language == "en" or s.coverage >= c.abstain_coverage),
    ("unknown-words", lambda s, c: s.language == "en" or s.unknown_share <= c.abstain_unknown),
    ("unknown-focus", lambda s, c: s.language == "en" or s.unknown_focus is None),
    # English questions translate names ("the Steering Group"): only Danish ones are held to them.
    ("unknown-name", lambda s, c: s.language == "en" or s.unknown_name is None),
    ("answer-type", lambda s, c: s.states_type or (s.language == "en" and s.typed >= c.abstain_typed)),
)


def decide(settings: Settings, evidence: QueryEvidence, asked: QueryEvidence, passages: list[Passage],
           language: str, score: SentenceScorer, dangling: bool = False) -> Verdict:
    """`dangling`: the question refers back, and no earlier turn gave it anything to refer to."""
    if not passages:
        return Verdict(False, "no-passages")
    return judge(signals(evidence, asked, passages, language, score, settings, dangling), settings)


def judge(seen: Signals, settings: Settings) -> Verdict:
    """The verdict of the checks on signals already computed (bench/calibrate.py sweeps settings)."""
    for name, check in CHECKS:
        if not check(seen, settings):
            return Verdict(False, name, seen.sentence)
    return Verdict(True, "", seen.sentence)
