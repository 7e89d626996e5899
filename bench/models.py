"""The default model and the former one side by side, in one run (issue #11).

    .venv/bin/python -m bench.models [--shared ../shared] [--models multilingual-e5-small all-MiniLM-L6-v2]

For each model, in a process of its own (so that its memory is its own), with the onnx-int8 backend
and the model's calibration (settings.MODEL_CALIBRATION):
1. Embedding throughput: the chunk texts of os2produktmodning as ingest cuts them for that model,
   embedded at the ingest batch size, best of two rounds (other work only ever slows a round down).
2. Full ingest of each dev site into a fresh index (chunks, prose sentences for answers, store).
3. The eval tool's measures on both dev sets together: the hybrid assistant, dense retrieval alone
   over the same store (langchain + Chroma) and the whole pipeline a user would otherwise write
   (bench/baseline.py: every markdown file split by langchain, HuggingFaceEmbeddings, Chroma).
4. Query latency in-process (retrieval + extractive answer, every dev question, after one warm-up)
   and the serving process's RSS before any baseline is loaded.

Prints one table per measure with the ratio of the first model to the second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.offline import go_offline
from bench import SHARED

go_offline()

from assistant.embed.embedder import get_embedder  # noqa: E402
from assistant.eval import Question, Result, evaluate, load_questions, metrics, ranks  # noqa: E402
from assistant.index.store import collection_name  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402
from assistant.settings import BUNDLED_MODEL, DEFAULT_MODEL, Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from bench.baseline import LangchainPipeline  # noqa: E402
from bench.embed import site_chunks  # noqa: E402
from bench.eval import dense_baseline  # noqa: E402
from bench.query import percentile, rss_mb  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402

SITES = (("os2produktmodning", "dev-os2produktmodning.jsonl"), ("os2borgerpc-docs", "dev-os2borgerpc-docs.jsonl"))
KINDS = ("paraphrase", "english")


def throughput(settings: Settings, texts: list[str]) -> float:
    embedder = get_embedder(settings.embedding_model, settings.embedding_batch_size, settings.embedding_backend,
                            settings.cache_dir)
    embedder.embed_passages(texts[:16])  # loads the model (and makes its export on a first run)
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        embedder.embed_passages(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def summary(rows: list[tuple[Question, Result]]) -> dict[str, float]:
    every = metrics(rows)
    out: dict[str, float] = {k: every[k] for k in ("page hit@5", "page MRR@10") if k in every}
    for kind in KINDS:
        of_kind = [(q, r) for q, r in rows if q.kind == kind]
        if of_kind:
            out[f"{kind} hit@5"] = metrics(of_kind)["page hit@5"]
    if "abstain recall" in every:
        out["unanswerable declined"] = every["abstain recall"]
        out["answerable wrongly declined"] = every["wrong abstain rate"]
    return out


def one_model(model: str, shared: Path, work: Path) -> dict:
    """Every measure of one model (run in its own process)."""
    out: dict = {"model": model}
    cache = work / "cache"
    base = Settings(embedding_model=model, cache_dir=cache, index_dir=work / "unused")
    texts = [c.embed_text for c in site_chunks(base, shared / "corpus" / "os2produktmodning")]
    out["chunks (os2produktmodning)"] = len(texts)
    out["chunks embedded per second"] = throughput(base, texts)
    systems: dict[str, list[tuple[Question, Result]]] = {"hybrid": [], "dense only": []}
    latencies: list[float] = []
    assistants = {}
    for site, _ in SITES:
        settings = Settings(embedding_model=model, cache_dir=cache, index_dir=work / site)
        started = time.perf_counter()
        report = ingest(settings, [SourceSpec(site, shared / "corpus" / site)], progress=False)
        if report.failed:
            raise SystemExit(f"{model}: ingest of {site} failed: {report.sources[0].error}")
        out[f"full ingest of {site} (s)"] = time.perf_counter() - started
        assistants[site] = Assistant.open(settings)
    for site, questions_file in SITES:  # with both indexes open: what a server of two sites holds
        assistant = assistants[site]
        assistant.ask("opvarmning")
        ran = evaluate(load_questions(shared / "eval" / questions_file), assistant, {})
        systems["hybrid"] += ran["assistant"]
        for q in load_questions(shared / "eval" / questions_file):
            started = time.perf_counter()
            assistant.ask(q.question, q.history)
            latencies.append((time.perf_counter() - started) * 1000)
    out["query p50 (ms)"] = percentile(latencies, 0.5)
    out["query p95 (ms)"] = percentile(latencies, 0.95)
    out["serving RSS, two sites open (MB)"] = rss_mb()  # before any baseline loads its own model
    for site, questions_file in SITES:
        settings = assistants[site].settings
        dense = dense_baseline(settings, collection_name(settings.collection, settings.chunking_signature()))
        questions = load_questions(shared / "eval" / questions_file)
        systems["dense only"] += [(q, ranks(q, dense(q.question))) for q in questions]
    theirs: list[tuple[Question, Result]] = []
    for site, questions_file in SITES:
        pipeline = LangchainPipeline(model, work / f"langchain-{site}", cache)  # the model unpacked once
        pipeline.build(shared / "corpus" / site)
        theirs += [(q, ranks(q, pipeline.search(q.question))) for q in load_questions(shared / "eval" / questions_file)]
    systems["langchain pipeline"] = theirs
    out["systems"] = {name: summary(rows) for name, rows in systems.items()}
    return out


def print_tables(first: dict, second: dict) -> None:
    a, b = first["model"], second["model"]
    print("\n### Retrieval and abstention, both dev sets (45 answerable + 5 unanswerable)\n")
    measures = list(first["systems"]["hybrid"])
    print("| system | " + " | ".join(measures) + " |")
    print("|---|" + "---|" * len(measures))
    for system in first["systems"]:
        for run in (first, second):
            row = run["systems"][system]
            print(f"| {run['model']} {system} | " + " | ".join(f"{row[m]:.2f}" if m in row else "–" for m in measures) + " |")
    print(f"\nRatios {a} / {b} (page hit@5, MRR@10): " + "; ".join(
        f"{system} {_ratio(first['systems'][system], second['systems'][system], 'page hit@5')}, "
        f"{_ratio(first['systems'][system], second['systems'][system], 'page MRR@10')}" for system in first["systems"]))
    hybrid, dense = first["systems"]["hybrid"], first["systems"]["dense only"]
    print(f"{a} hybrid / {a} dense only: {_ratio(hybrid, dense, 'page hit@5')}, {_ratio(hybrid, dense, 'page MRR@10')}; "
          f"{a} hybrid / langchain pipeline with {a}: {_ratio(hybrid, first['systems']['langchain pipeline'], 'page hit@5')}, "
          f"{_ratio(hybrid, first['systems']['langchain pipeline'], 'page MRR@10')}")
    print(f"\n### Speed and memory (onnx-int8, 2 cores)\n\n| measure | {a} | {b} | {a} / {b} |\n|---|---|---|---|")
    for key, value in first.items():
        if isinstance(value, int | float) and key in second:
            other = second[key]
            ratio = f"{value / other:.2f}×" if other else "–"
            print(f"| {key} | {value:.1f} | {other:.1f} | {ratio} |")


def _ratio(x: dict, y: dict, key: str) -> str:
    return f"{x[key] / y[key]:.2f}×" if y.get(key) else "–"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.models", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--models", nargs=2, default=[DEFAULT_MODEL, BUNDLED_MODEL])
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one model here, print its JSON
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_model(args.one, args.shared, args.work)))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        for model in args.models:
            print(f"{model}: measuring in its own process …", flush=True)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "bench.models", "--one", model, "--shared", str(args.shared),
                                   "--work", str(Path(tmp) / model)], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{model}: done in {time.perf_counter() - started:.0f} s", flush=True)
    print_tables(*results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
