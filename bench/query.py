"""Query benchmark: retrieval + extractive answer in one process, over the dev questions.

    .venv/bin/python -m bench.query [--n 200] [--shared ../shared]

Ingests os2produktmodning into a temporary index (or reuses --index), then answers --n questions drawn
from the dev sets (repeated as needed) and prints p50/p95/p99 latency and the process's memory.

With --cold-sentences the sentence vectors the ingest made are not read: each dev question is asked
once and the reader embeds the sentences of its passages when it needs them (what a query would cost
if ingest embedded chunks only); it also prints how long the ingest's sentence vectors took to embed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant.offline import go_offline
from bench import SHARED

go_offline()

from assistant.answer.meaning import SentenceVectors  # noqa: E402
from assistant.models import turns_from  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from assistant.text import sentences_in_context  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cold_sentences(assistant: Assistant, empty: Path) -> None:
    """Points the assistant at an empty sentence-vector cache; prints what embedding the sentences
    of every chunk (as ingest does) takes."""
    chunks = list(assistant.retriever.snapshot().chunks.values())
    texts = list(dict.fromkeys(s for c in chunks for s in sentences_in_context(c)))
    started = time.perf_counter()
    assistant.reader.sentence_vectors(texts)
    print(f"the ingest's sentence vectors: {len(texts)} sentences of {len(chunks)} chunks in "
          f"{time.perf_counter() - started:.1f} s")
    assistant.sentences = SentenceVectors(empty, assistant.reader.key, assistant.reader.sentence_vectors)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--cold-sentences", action="store_true",
                        help="sentence vectors made at question time, not read from the ingest's cache")
    args = parser.parse_args()
    questions = [json.loads(line) for f in sorted((args.shared / "eval").glob("dev-*.jsonl"))
                 for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        settings = Settings(index_dir=index)
        ingest(settings, [SourceSpec("os2produktmodning", args.shared / "corpus" / "os2produktmodning")],
               progress=False)
        assistant = Assistant.open(settings)
        assistant.ask("opvarmning")  # first call loads the model and builds the lexical index
        if args.cold_sentences:
            cold_sentences(assistant, Path(tmp) / "cold")
            questions = list({q["question"]: q for q in questions}.values())
        n = len(questions) if args.cold_sentences else args.n
        latencies = []
        for i in range(n):
            q = questions[i % len(questions)]
            started = time.perf_counter()
            assistant.ask(q["question"], turns_from(q.get("history") or []))
            latencies.append((time.perf_counter() - started) * 1000)
    print(f"{n} questions, retrieval + extractive answer, one process"
          + (", sentence vectors made at question time" if args.cold_sentences else ""))
    print(f"p50 {percentile(latencies, 0.5):.1f} ms  p95 {percentile(latencies, 0.95):.1f} ms  "
          f"p99 {percentile(latencies, 0.99):.1f} ms  mean {statistics.mean(latencies):.1f} ms  "
          f"(targets: p50 ≤ 50 ms, p95 ≤ 150 ms)")
    print(f"serving process RSS {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
