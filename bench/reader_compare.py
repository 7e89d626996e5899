"""The reader against the cosine it replaces, in one run, on question sets nobody trained on.

    python -m bench.reader_compare                       # every set of both development sites
    python -m bench.reader_compare --sets new26 newcomer # only these sets

For each development site the index is built once (data/eval/<site>) and served twice: with the
embedding model's cosine reading the sentences (the answerer before the reader) and with the trained
reader (assistant/read/). Per question set and reader it prints:

- `first`: of the answerable questions where a candidate sentence (a prose sentence of the answer's
  top passages) holds one of the question's facts, how often the sentence the answerer leads with is
  one of those: "the sentence that answers ranks first";
- `fact recall` beside `in candidates` (the ideal reader's: the share of facts some candidate holds,
  the most choosing among them can give) and `on pages` (the share the site states at all);
- `declined` (unanswerable questions declined), `wrong` (answerable ones declined), median words,
  markup, stable, as the eval tool counts them (assistant/eval.py);
- `AUC`: how well the best sentence's score tells the answerable Danish questions from the
  unanswerable ones, beside `question-only AUC`: a classifier that sees only the question's words,
  trained on the training questions (bench/reader_data.py), the wording shortcut a reader must beat.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.offline import go_offline
from bench import SHARED

go_offline()

from assistant.answer import abstain  # noqa: E402
from assistant.answer.abstain import signals  # noqa: E402
from assistant.answer.extractive import candidates  # noqa: E402
from assistant.eval import Question, _plain, evaluate, facts_in, load_questions, metrics  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from bench.train_reader import auc  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402

SITES = ("os2produktmodning", "os2borgerpc-docs")
QUESTIONS = Path(__file__).parent / "questions"
SETS = ("dev", "new26", "new12", "heldout", "new11", "newcomer")
ALL_CHECKS = abstain.CHECKS


def question_sets(site: str, only: tuple[str, ...]) -> dict[str, list[Question]]:
    found = {}
    for name in only:
        file = SHARED / "eval" / f"dev-{site}.jsonl" if name == "dev" else QUESTIONS / f"{name}-{site}.jsonl"
        if file.exists():
            found[name] = load_questions(file)
    return found


def question_only_classifier():  # type: ignore[no-untyped-def]
    """P(unanswerable | the question's words), trained on the training questions."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from bench.reader_data import load_all

    items = load_all()
    model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2),
                          LogisticRegression(max_iter=2000, C=2.0))
    model.fit([i.question for i in items], [0 if i.answerable else 1 for i in items])
    return model


def reader_figures(assistant: Assistant, questions: list[Question]) -> tuple[float, float, int, float]:
    """(lead holds a fact, share of facts some candidate holds, questions counted for the first, AUC of
    the best sentence's score on the Danish standalone questions), one retrieval per question."""
    hits, ceiling, answerable, unanswerable = [], [], [], []
    for q in questions:
        found = assistant.retrieve(q.question, q.history)
        if found.passages and q.lang == "da" and not q.history:
            seen = signals(found.judged, found.evidence, found.passages, found.query.language, found.score,
                           assistant.settings)
            (answerable if q.answerable else unanswerable).append(seen.sentence)
        if not q.answerable or not q.facts:
            continue
        cands = candidates(found.evidence, found.passages, found.score, assistant.settings) if found.passages else []
        ceiling.append(facts_in(q.facts, _plain(" ".join(c.sentence for c in cands))) or 0.0)
        holding = [c for c in cands if facts_in(q.facts, _plain(c.sentence))]
        if holding:
            hits.append(max(cands, key=lambda c: c.score) in holding)
    return (sum(hits) / max(1, len(hits)), sum(ceiling) / max(1, len(ceiling)), len(hits),
            auc(answerable, unanswerable))


def variants(readers: dict[str, Assistant]) -> list[tuple[str, Assistant, tuple]]:
    """Each reader with every check of answer/abstain.py, and the trained one with only the checks about
    form and the reader's own score: whether the hand-written rules still help beside it."""
    alone = tuple((n, c) for n, c in ALL_CHECKS if n in ("no-subject", "meaning"))
    return [(name, a, ALL_CHECKS) for name, a in readers.items()] + [("trained, its score alone", readers["trained"],
                                                                       alone)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    args = parser.parse_args(argv)
    only_words = question_only_classifier()
    header = ("| site | set | reader | n | first | fact recall | in candidates | on pages | declined | wrong | "
              "median words | markup | stable | AUC | question-only AUC |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for site in SITES:
        settings = Settings(index_dir=Path("data/eval") / site)
        report = ingest(settings, [SourceSpec(name=site, path=(SHARED / "corpus" / site).resolve())], progress=False)
        if report.failed:
            raise SystemExit(f"{site}: {report.sources[0].error}")
        readers = {name: Assistant.open(Settings(index_dir=settings.index_dir, reader=name))  # its calibration
                   for name in ("cosine", "trained")}
        for set_name, questions in question_sets(site, tuple(args.sets)).items():
            danish = [q for q in questions if q.lang == "da" and not q.history]
            looks_answerable = only_words.predict_proba([q.question for q in danish])[:, 0] if danish else []
            words_auc = auc([float(p) for p, q in zip(looks_answerable, danish, strict=True) if q.answerable],
                            [float(p) for p, q in zip(looks_answerable, danish, strict=True) if not q.answerable])
            for name, assistant, checks in variants(readers):
                abstain.CHECKS = checks
                m = metrics(evaluate(questions, assistant, {})["assistant"])
                first, ceiling, counted, sentence_auc = reader_figures(assistant, questions)
                cells = [site, set_name, name, f"{int(m['n'])}+{len(questions) - int(m['n'])}",
                         f"{first:.2f} ({counted})", f"{m.get('answer fact recall', 0):.2f}", f"{ceiling:.2f}",
                         f"{m.get('facts on pages', 0):.2f}", f"{m.get('abstain recall', 0):.2f}",
                         f"{m.get('wrong abstain rate', 0):.2f}", f"{m.get('median words', 0):.0f}",
                         f"{m.get('markup', 0):.2f}", f"{m.get('stable', 0):.2f}", f"{sentence_auc:.2f}",
                         f"{words_auc:.2f}"]
                lines.append("| " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
