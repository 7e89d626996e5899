"""Calibrates the answer settings on one site and reports them on the other (leave one site out).

    .venv/bin/python -m bench.calibrate [--shared ../shared]

For each dev site: the site is ingested (data/eval/<site>, incrementally), and its tuning questions —
the dev set, the `tune` half of bench/questions/new12-<site>.jsonl, and the sets written for #11
(heldout-<site>, new11-<site>: blind then, tuning data since) — are retrieved once. Then:

1. Sentence choice (settings.sentence_*): the grid of weights, scored by the answers' fact recall on
   the answerable questions (ties: fewer words).
2. Abstention (settings.abstain_*): the grid of thresholds, scored by the share of unanswerable
   questions declined, among the settings that wrongly decline at most 5% of the answerable ones
   (English ones included).

Each is chosen on one site and reported on the other, both ways, then chosen on both together: the
values to ship. The `holdout` halves of new12-* and newcomer-* are never read here (the eval tool
reports on them).

`--signals` prints, instead, how well each signal abstention could use separates the answerable from
the unanswerable Danish tuning questions of each site (ROC AUC: 0.5 is chance, 1.0 a signal that
alone would decide every question right): the checks' own signals and the retrieval's (the query
performance predictors of the IR literature). A threshold cannot do better than its signal's AUC.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.offline import go_offline
from bench import SHARED

go_offline()

from assistant.answer.abstain import Signals, judge, signals  # noqa: E402
from assistant.answer.extractive import ExtractiveAnswerer  # noqa: E402
from assistant.eval import Question, answer_words, fact_recall, load_questions  # noqa: E402
from assistant.serve.service import Assistant, Retrieval  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402

SITES = ("os2produktmodning", "os2borgerpc-docs")
QUESTIONS = Path(__file__).parent / "questions"
MAX_WRONG = 0.05

SENTENCE_GRID = {
    "sentence_coverage_weight": (0.0, 0.05, 0.1, 0.2),
    "sentence_type_weight": (0.0, 0.05, 0.1, 0.2),
    "sentence_rank_penalty": (0.0, 0.01, 0.02),
    "sentence_add_margin": (0.04, 0.1, 1.0),
    "sentence_neighbour_bonus": (0.0, 0.02, 0.05),
}
def abstain_grid(base: Settings) -> dict[str, tuple[float, ...]]:
    """Thresholds around the shipped ones (the reader's and the cosine's scores lie in other ranges)."""
    around = lambda value: tuple(round(value + 0.02 * i, 2) for i in range(-10, 7))  # noqa: E731
    return {
        "abstain_sentence": around(base.abstain_sentence),
        "abstain_sentence_english": around(base.abstain_sentence_english),
        "abstain_typed": (*around(base.abstain_typed)[::2], 1.0),
        "abstain_coverage": (0.1, 0.2, 0.3),
    }


@dataclass
class Seen:
    question: Question
    found: Retrieval
    signals: Signals


def tuning_questions(shared: Path, site: str) -> list[Question]:
    questions = load_questions(shared / "eval" / f"dev-{site}.jsonl")
    for name in (f"new12-{site}.jsonl", f"heldout-{site}.jsonl", f"new11-{site}.jsonl"):
        if (QUESTIONS / name).exists():
            questions += [q for q in load_questions(QUESTIONS / name) if q.split in ("", "tune")]
    return questions


def retrieve_all(shared: Path, site: str) -> list[Seen]:
    settings = Settings(index_dir=Path("data/eval") / site)
    report = ingest(settings, [SourceSpec(name=site, path=(shared / "corpus" / site).resolve())], progress=True)
    if report.failed:
        raise SystemExit(f"{site}: {report.sources[0].error}")
    assistant = Assistant.open(settings)
    seen = []
    for q in tuning_questions(shared, site):
        found = assistant.retrieve(q.question, q.history)
        seen.append(Seen(q, found, signals(found.judged, found.evidence, found.passages, found.query.language,
                                           found.score, settings)))
    return seen


def sentence_score(seen: list[Seen], settings: Settings) -> tuple[float, float]:
    """(fact recall, −mean words) of the answers to the answerable questions with facts."""
    answerer = ExtractiveAnswerer(settings)
    recalls, words = [], []
    for s in seen:
        if not s.question.facts or not s.found.passages:
            continue
        answer = answerer.answer(s.found.evidence, s.found.passages, s.found.query.language, s.found.score,
                                  s.found.parts)
        recalls.append(fact_recall(s.question.facts, answer.text) or 0.0)
        words.append(answer_words(answer.text))
    return sum(recalls) / max(1, len(recalls)), -sum(words) / max(1, len(words))


def abstain_score(seen: list[Seen], settings: Settings) -> tuple[float, float, float]:
    """(declined share of unanswerable, −wrongly declined share of answerable, −English wrong declines)."""
    answerable = [s for s in seen if s.question.answerable]
    unanswerable = [s for s in seen if not s.question.answerable]
    declined = lambda group: [s for s in group if not judge(s.signals, settings).answer]  # noqa: E731
    wrong = len(declined(answerable)) / max(1, len(answerable))
    english = len(declined([s for s in answerable if s.question.lang == "en"]))
    return len(declined(unanswerable)) / max(1, len(unanswerable)), -wrong, -english


def grid(base: Settings, axes: dict[str, tuple[float, ...]]) -> list[Settings]:
    names = list(axes)
    return [base.model_copy(update=dict(zip(names, values, strict=True))) for values in itertools.product(*axes.values())]


def best_sentence_settings(seen: list[Seen], base: Settings) -> Settings:
    return max(grid(base, SENTENCE_GRID), key=lambda s: sentence_score(seen, s))


def best_abstain_settings(seen: list[Seen], base: Settings) -> Settings:
    def key(s: Settings) -> tuple[bool, float, float]:
        recall, wrong, english = abstain_score(seen, s)
        feasible = -wrong <= MAX_WRONG and english == 0
        # Where no setting keeps wrong declines within MAX_WRONG: the fewest wrong declines.
        return (feasible, recall if feasible else wrong + english, recall)

    return max(grid(base, abstain_grid(base)), key=key)


def describe(settings: Settings, axes: dict[str, tuple[float, ...]]) -> str:
    return ", ".join(f"{name}={getattr(settings, name)}" for name in axes)


def _spread(s: Seen) -> float:
    """NQC: the spread of the top ten passages' cosines over their mean (a peaked list: a clear topic)."""
    cosines = [p.dense for p in s.found.passages[:10]]
    return statistics.pstdev(cosines) / statistics.mean(cosines) if len(cosines) > 1 and statistics.mean(cosines) else 0.0


SIGNALS: dict[str, Callable[[Seen], float]] = {
    "best sentence's similarity (meaning)": lambda s: s.signals.sentence,
    "passage coverage of the question's terms (coverage)": lambda s: s.signals.coverage,
    "share of the question's weight on words the pages use (unknown-words)": lambda s: -s.signals.unknown_share,
    "a sentence of the kind asked for (answer-type)": lambda s: float(s.signals.states_type),
    "top passage's cosine": lambda s: s.found.passages[0].dense,
    "dense and BM25 both rank the top passage first": lambda s: float(
        s.found.passages[0].dense_rank == 0 and s.found.passages[0].lexical_rank == 0),
    "spread of the top ten cosines (NQC)": _spread,
}


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance that an answerable question's value is above an unanswerable one's (ties: half)."""
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def separation(seen: dict[str, list[Seen]]) -> str:
    lines = ["| signal | " + " | ".join(SITES) + " |", "|---|" + "---|" * len(SITES)]
    danish = {site: [s for s in group if s.question.lang == "da" and s.found.passages] for site, group in seen.items()}
    for name, value in SIGNALS.items():
        cells = []
        for site in SITES:
            answerable = [value(s) for s in danish[site] if s.question.answerable]
            cells.append(f"{auc(answerable, [value(s) for s in danish[site] if not s.question.answerable]):.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{site} {sum(s.question.answerable for s in danish[site])} answerable / "
                       f"{sum(not s.question.answerable for s in danish[site])} unanswerable" for site in SITES)
    return "\n".join([f"ROC AUC, answerable against unanswerable Danish tuning questions ({counts}):", "", *lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--signals", action="store_true", help="print how well each abstention signal separates "
                        "answerable from unanswerable questions, per site, and stop")
    args = parser.parse_args()
    base = Settings()
    seen = {site: retrieve_all(args.shared, site) for site in SITES}
    if args.signals:
        print(separation(seen))
        return
    for site in SITES:
        q = seen[site]
        print(f"{site}: {len(q)} tuning questions, {sum(1 for s in q if not s.question.answerable)} unanswerable")
    print("\n| chosen on | reported on | settings | fact recall | mean words | declined unanswerable | "
          "wrongly declined | English wrongly declined |")
    print("|---|---|---|---|---|---|---|---|")
    for train, test in ((SITES[0], SITES[1]), (SITES[1], SITES[0]), ("both", "both")):
        train_seen = seen[SITES[0]] + seen[SITES[1]] if train == "both" else seen[train]
        test_seen = seen[SITES[0]] + seen[SITES[1]] if test == "both" else seen[test]
        chosen = best_sentence_settings(train_seen, base)
        chosen = best_abstain_settings(train_seen, chosen)
        recall, words = sentence_score(test_seen, chosen)
        declined, wrong, english = abstain_score(test_seen, chosen)
        print(f"| {train} | {test} | {describe(chosen, SENTENCE_GRID)}; {describe(chosen, abstain_grid(base))} | "
              f"{recall:.2f} | {-words:.0f} | {declined:.2f} | {-wrong:.2f} | {-english:.0f} |")
    print(f"\nshipped (settings.py): {describe(base, SENTENCE_GRID)}; {describe(base, abstain_grid(base))}")
    for site in SITES:
        recall, words = sentence_score(seen[site], base)
        declined, wrong, english = abstain_score(seen[site], base)
        print(f"  {site}: fact recall {recall:.2f}, mean words {-words:.0f}, declined {declined:.2f}, "
              f"wrongly declined {-wrong:.2f}, English wrongly declined {-english:.0f}")


if __name__ == "__main__":
    main()
