"""The answer-type check (answer/expect.py, abstain.py) on sites nobody tuned it on: the training sites.

    python -m bench.answer_types                      # every kind of fact a question may ask for
    python -m bench.answer_types --kinds duration frequency

Each training site (../shared/training and bench/training: neither a development nor an evaluation
site) is ingested as it is (data/eval/training/<site>, incrementally), and every question whose
wording asks for a kind of fact (a price, a count, a duration …) is asked twice: with every check of
answer/abstain.py, and without `answer-type`. Per kind it prints how many near misses each declines
and how many answerable questions each wrongly declines: what the check adds where it was not
written, the figure a hand-written rule must show to stay (#26).
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from assistant.offline import go_offline

go_offline()

from assistant.answer import abstain  # noqa: E402
from assistant.answer.expect import expected  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402
from bench.reader_data import PROJECT_TRAINING, SHARED_TRAINING, ingest_site  # noqa: E402

WITHOUT = tuple((name, check) for name, check in abstain.CHECKS if name != "answer-type")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="*", default=None, help="only these kinds (default: all)")
    parser.add_argument("--index-root", type=Path, default=Path("data/eval/training"))
    args = parser.parse_args(argv)
    counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
    checks = abstain.CHECKS
    for root in (SHARED_TRAINING, PROJECT_TRAINING):
        for file in sorted((root / "questions").glob("*.jsonl")):
            questions = []
            for line in file.read_text(encoding="utf-8").splitlines():
                q = json.loads(line) if line.strip() else {}
                wanted = expected(q["question"]) if q else None
                if wanted is not None and (args.kinds is None or wanted.kind in args.kinds):
                    questions.append((q, wanted.kind))
            if not questions:
                continue
            settings, error = ingest_site(root, file.stem, args.index_root)
            if error is not None:
                print(f"{file.stem}: not ingested: {error}")
                continue
            assistant = Assistant.open(settings)
            for q, kind in questions:
                group = "near misses" if q["kind"] == "unanswerable" else "answerable"
                counts[kind, group, "n"] += 1
                for label, used in (("with", checks), ("without", WITHOUT)):
                    abstain.CHECKS = used
                    counts[kind, group, label] += not assistant.ask(q["question"]).answered
                abstain.CHECKS = checks
            print(f"{file.stem}: {len(questions)} questions", flush=True)
    print("\n| kind | near misses | declined without answer-type | with it | answerable | wrongly declined without | with |")
    print("|---|---|---|---|---|---|---|")
    for asked in sorted({k for k, _, _ in counts}):
        cells = [counts[asked, group, label] for group in ("near misses", "answerable")
                 for label in ("n", "without", "with")]
        print(f"| {asked} | " + " | ".join(str(c) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
