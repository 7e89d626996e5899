"""The reader measured as the product uses it, on training sites a reader was not trained on: each
held-out site ingested as it is, each of its questions asked of its whole site (retrieval, the
candidates of the answer's passages, the checks), hundreds of questions where the development sets
have 20–30 a row.

    python -m bench.reader_sites --model /tmp/fold.npz --site OS2mo+os2mo --site …
    python -m bench.reader_sites --reader cosine --site …      # e5 as bundled, the same questions

`--model`: a reader written by `python -m bench.train_reader --hold-out … --out F` (trained without
these sites); default the shipped one (trained on every training site: not a held-out figure).
Printed per site and summed: the answering sentence leads (among the questions where one of the
candidates is an answering sentence: bench/reader_data.py's `matches`), an answering sentence is
among the candidates, the answer is given (answerable questions) and declined (near misses), and the
ROC AUC with which the best sentence's score (the `meaning` check's signal) tells them apart.
Indexes: data/eval/training/<root>-<site> (shared by bench/answer_types.py and bench/site_negatives.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.offline import go_offline
from bench.reader_data import PROJECT_TRAINING, SHARED_TRAINING, ingest_site, matches
from bench.train_reader import auc

go_offline()

from assistant.answer.abstain import signals  # noqa: E402
from assistant.answer.extractive import candidates  # noqa: E402
from assistant.read import weights  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402

INDEX_ROOT = Path("data/eval/training")


def site_figures(assistant: Assistant, questions: list[dict]) -> dict[str, list]:
    """Per question: lead is gold (or None: no gold candidate), gold among candidates, answered, best score."""
    out: dict[str, list] = {"first": [], "in": [], "answered": [], "declined": [], "best+": [], "best-": []}
    for q in questions:
        found = assistant.retrieve(q["question"])
        answered = bool(found.passages) and assistant.decide(found).answer
        best = signals(found.judged, found.evidence, found.passages, found.query.language, found.score,
                       assistant.settings).sentence if found.passages else 0.0
        if q["kind"] == "unanswerable":
            out["declined"].append(not answered)
            out["best-"].append(best)
            continue
        out["answered"].append(answered)
        out["best+"].append(best)
        cands = candidates(found.evidence, found.passages, found.score, assistant.settings) if found.passages else []
        holding = [c for c in cands if matches(c.sentence, q["answer_sentences"])]
        out["in"].append(bool(holding))
        if holding:
            out["first"].append(max(cands, key=lambda c: c.score) in holding)
    return out


def line(name: str, f: dict[str, list]) -> str:
    share = lambda xs: f"{sum(xs) / len(xs):.3f}" if xs else "-"  # noqa: E731
    return (f"| {name} | {len(f['answered'])}+{len(f['declined'])} | {share(f['first'])} ({len(f['first'])}) | "
            f"{share(f['in'])} | {share(f['answered'])} | {share(f['declined'])} | {auc(f['best+'], f['best-']):.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", action="append", required=True, help="a training site (<owner>+<repo>)")
    parser.add_argument("--model", type=Path, default=None, help="the reader's weights (default: the shipped ones)")
    parser.add_argument("--reader", choices=("trained", "cosine"), default="trained")
    parser.add_argument("--index-root", type=Path, default=INDEX_ROOT)
    args = parser.parse_args(argv)
    if args.model is not None:
        weights.check(args.model)
        weights.SHIPPED = args.model.resolve()
    print(f"reader: {args.reader}" + (f" ({weights.SHIPPED})" if args.reader == "trained" else ""), flush=True)
    print("| site | questions | lead answers (n) | answer among candidates | answerable answered | "
          "near misses declined | AUC |\n|---|---|---|---|---|---|---|")
    total: dict[str, list] = {}
    for site in args.site:
        root = next((r for r in (SHARED_TRAINING, PROJECT_TRAINING) if (r / "questions" / f"{site}.jsonl").is_file()),
                    None)
        if root is None:
            raise SystemExit(f"{site}: no questions/{site}.jsonl under {SHARED_TRAINING} or {PROJECT_TRAINING}")
        settings, error = ingest_site(root, site, args.index_root, args.reader)
        if error is not None:
            print(f"| {site} | not ingested: {error} |")
            continue
        lines = (root / "questions" / f"{site}.jsonl").read_text(encoding="utf-8").splitlines()
        figures = site_figures(Assistant.open(settings), [json.loads(x) for x in lines if x.strip()])
        print(line(site, figures), flush=True)
        for key, values in figures.items():
            total.setdefault(key, []).extend(values)
    print(line("all", total))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
