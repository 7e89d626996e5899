"""Scale benchmark on a synthetic site of N pages (bench/synth.py): ingest, index size, serving, 1% update.

    .venv/bin/python -m bench.scale [--pages 10000] [--site DIR] [--keep DIR] [--n 200] [--profile]

1. Generates the site (or copies --site, so that the update below leaves DIR as it was) and ingests
   it into a fresh index, so with a cold embedding cache: seconds, pages/s, chunks/s, peak memory.
2. The index's size on disk: Chroma, catalog, embedding cache.
3. A serving process opens the index as app.py does (`Assistant.open`), in a process of its own so that
   its memory is its own: time to open, RSS, p50/p95/p99 over --n questions of the dev sets.
4. Re-ingests with no change, then appends a sentence to 1% of the pages and re-ingests: seconds,
   pages changed, chunks written, embeddings computed — checked against the catalog: the changed
   pages' chunks are written, and only chunk texts the index did not have before are embedded.
   Both run in the serving process, as the app's background re-ingest job does.
5. The same serving process again: how long it takes to pick up the new index version (the first
   query after the update rebuilds the snapshot: chunks and BM25), then p50/p95/p99.
With --profile, the ingests run under cProfile and print where their time went. With --fake-vectors,
a hash of each text stands in for the model (random unit vectors) and the cosine reader reads the
sentences with them: everything but embedding is measured in minutes, and relevance is meaningless.
The no-change re-ingest runs twice: the first one after the full ingest pays for catching up with what
that other process wrote.
The site and index live in a temporary folder unless --keep DIR is given.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from assistant.offline import go_offline
from bench import SHARED, ingest_line

go_offline()

from assistant.embed import embedder  # noqa: E402
from assistant.embed.embedder import get_embedder  # noqa: E402
from assistant.eval import Question, load_questions  # noqa: E402
from assistant.index.catalog_sqlite import SqliteCatalog  # noqa: E402
from assistant.models import sha1  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from bench.query import percentile, rss_mb  # noqa: E402
from bench.synth import generate, mutate  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from ingest.report import IngestReport  # noqa: E402

SOURCE = "synth"
# Where an ingest spends its time, by function (file suffix, name) in a cProfile of it.
STAGES = (
    ("scan + parse", "ingest/site.py", "scan_site"),
    ("chunk", "ingest/chunk.py", "chunk_page"),
    ("embed (model)", "assistant/embed/embedder.py", "embed"),
    ("embedding cache", "assistant/index/embedding_cache.py", "put_many"),
    ("open Chroma", "assistant/index/store.py", "open_store"),
    ("Chroma upsert", "assistant/index/store.py", "add"),
    ("catalog commit", "assistant/index/catalog_sqlite.py", "commit"),
    ("delete stale vectors", "ingest/pipeline.py", "_delete_stale"),
)


@dataclass
class Served:
    """What the serving process measured: seconds to open or to take up a new version, latencies."""

    seconds: float
    latencies: list[float]
    rss_mb: float


class FakeVectors:
    """Unit vectors seeded by a hash of the text: the model's shape, none of its cost or meaning."""

    name = "fake-vectors"
    batch_size = 64
    dimension = 384
    max_tokens = 256

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = np.stack([np.random.default_rng(int(sha1(t)[:12], 16)).standard_normal(self.dimension)
                            for t in texts]).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def use_threads(self, threads: int) -> None:
        pass


def use_fake_vectors(settings: Settings) -> None:
    key = (settings.embedding_model, settings.embedding_batch_size, settings.embedding_backend)
    embedder._EMBEDDERS[key] = FakeVectors()


def load_model(settings: Settings) -> None:
    """Model load (and a first ONNX export into cache_dir) is neither ingest nor query time."""
    get_embedder(settings.embedding_model, settings.embedding_batch_size, settings.embedding_backend,
                 settings.cache_dir, settings.model_cache_dir).embed_passages(["opvarmning"])


def ask_all(assistant: Assistant, questions: list[Question], n: int) -> list[float]:
    latencies = []
    for i in range(n):
        q = questions[i % len(questions)]
        started = time.perf_counter()
        assistant.ask(q.question, q.history)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def serve(conn: Connection, settings: Settings, questions: list[Question], n: int, profile: bool,
          fake: bool = False) -> None:
    """The serving process: open the Assistant, then on request answer the questions ("ask") or
    re-ingest the site in this process ("ingest"), as the app's background job does: an embedded
    Chroma opened by this process does not see vectors that another process adds."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if fake:
        use_fake_vectors(settings)
    load_model(settings)
    started = time.perf_counter()
    assistant = Assistant.open(settings)
    assistant.ask("opvarmning")
    conn.send(Served(time.perf_counter() - started, [], rss_mb()))
    while (request := conn.recv()) is not None:
        command, site = request
        if command == "ingest":
            conn.send(run_ingest(settings, site, profile))
            continue
        started = time.perf_counter()
        assistant.retriever.snapshot()  # after an ingest: the new version's chunks and BM25 index
        refresh = time.perf_counter() - started
        conn.send(Served(refresh, ask_all(assistant, questions, n), rss_mb()))
    conn.close()


def run_ingest(settings: Settings, site: Path, profile: bool) -> IngestReport:
    spec = [SourceSpec(name=SOURCE, path=site)]
    if not profile:
        return ingest(settings, spec, progress=True)
    profiler = cProfile.Profile()
    report = profiler.runcall(ingest, settings, spec, progress=True)
    print_stages(pstats.Stats(profiler), report.seconds)
    return report


def print_stages(stats: pstats.Stats, total: float) -> None:
    cumulative: dict[tuple[str, str], float] = {}
    for (file, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        for _, suffix, stage_name in STAGES:
            if name == stage_name and file.endswith(suffix):
                cumulative[(suffix, name)] = cumulative.get((suffix, name), 0.0) + row[3]
    print(f"  where the time went (cProfile, {total:.1f} s in all):")
    for label, suffix, name in STAGES:
        seconds = cumulative.get((suffix, name), 0.0)
        print(f"    {label:<22} {seconds:8.1f} s  {100 * seconds / total:5.1f}%")


def disk_mb(paths: list[Path]) -> float:
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return sum(f.stat().st_blocks * 512 for f in files) / 2**20


def size_line(label: str, index: Path) -> str:
    chroma = disk_mb([index / "chroma"])
    catalog = disk_mb(list(index.glob("catalog.sqlite*")))
    cache = disk_mb(list(index.glob("embeddings.sqlite*")))
    return (f"{label:<22} {chroma + catalog + cache:8.0f} MB  Chroma {chroma:.0f} MB, catalog {catalog:.0f} MB, "
            f"embedding cache {cache:.0f} MB")


def latency_line(label: str, served: Served) -> str:
    ms = served.latencies
    return (f"{label:<22} p50 {percentile(ms, 0.5):.1f} ms  p95 {percentile(ms, 0.95):.1f} ms  "
            f"p99 {percentile(ms, 0.99):.1f} ms  mean {statistics.mean(ms):.1f} ms  ({len(ms)} questions; "
            f"serving RSS {served.rss_mb:.0f} MB)")


def text_hashes(index: Path) -> set[str]:
    catalog = SqliteCatalog(index)
    try:
        return {chunk.text_hash for _, chunk in catalog.chunks()}
    finally:
        catalog.close()


def chunks_of(index: Path, paths: list[str]) -> int:
    catalog = SqliteCatalog(index)
    try:
        records = catalog.pages(SOURCE)
        return sum(len(records[(SOURCE, p)].chunk_ids) for p in paths)
    finally:
        catalog.close()


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--site", type=Path, help="a site made by bench.synth (copied, not changed)")
    parser.add_argument("--keep", type=Path, help="keep the site and index in this new folder")
    parser.add_argument("--n", type=int, default=200, help="questions per latency measurement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--profile", action="store_true", help="run the ingests under cProfile")
    parser.add_argument("--fake-vectors", action="store_true", help="hash vectors instead of the model")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # in order with the serving process
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep} is not empty")
    questions = [q for f in sorted((args.shared / "eval").glob("dev-*.jsonl")) for q in load_questions(f)]
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        site = work / "site"
        if args.site:
            _, seconds = timed(shutil.copytree, args.site, site)
            print(f"site: {args.site} copied to {site} in {seconds:.1f} s")
        else:
            paths, seconds = timed(generate, site, args.pages, args.seed, args.shared)
            print(f"site: {len(paths)} pages generated in {seconds:.1f} s (seed {args.seed}) in {site}")
        # A new index, and with it a cold embedding cache of its own (fake vectors must never reach a
        # cache that a real ingest might read: ASSISTANT_EMBEDDING_CACHE_DIR is overridden).
        # With --fake-vectors the sentences are read by the cosine reader, on the fake vectors too: the
        # trained reader would embed every sentence with its real model (~200 a second here).
        settings = Settings(index_dir=work / "index", embedding_cache_dir=work / "index",
                            reader="cosine" if args.fake_vectors else "trained")
        if args.fake_vectors:
            use_fake_vectors(settings)
        load_model(settings)

        full = run_ingest(settings, site, args.profile)
        print(ingest_line("full ingest", full))
        print(f"{'ingest process':<22} peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        print(size_line("index on disk", settings.index_dir))

        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: its memory is the server's own
        parent, child = spawn.Pipe()
        server = spawn.Process(target=serve, args=(child, settings, questions, args.n, args.profile,
                                                   args.fake_vectors))
        server.start()
        opened: Served = receive(parent, server)
        print(f"{'serving process':<22} opened in {opened.seconds:.1f} s (index, model, first query), "
              f"RSS {opened.rss_mb:.0f} MB")
        parent.send(("ask", None))
        print(latency_line("queries", receive(parent, server)))

        parent.send(("ingest", site))
        print(ingest_line("re-ingest, no change", receive(parent, server)))
        parent.send(("ingest", site))
        print(ingest_line("... and again", receive(parent, server)))
        before = text_hashes(settings.index_dir)
        changed = mutate(site, 0.01, args.seed)
        parent.send(("ingest", site))
        update: IngestReport = receive(parent, server)
        print(ingest_line("1% update", update))
        new_texts = len(text_hashes(settings.index_dir) - before)
        written = chunks_of(settings.index_dir, changed)
        same_pages = sorted(update.sources[0].changed) == changed
        ok = same_pages and update.chunks_written == written and update.chunks_embedded == new_texts
        print(f"{'':<22} {len(update.sources[0].changed)} pages changed of {len(changed)} edited; chunks written "
              f"{update.chunks_written} = the changed pages' chunks {written}; embeddings computed "
              f"{update.chunks_embedded} = new chunk texts {new_texts} (the rest from the cache): "
              f"{'OK' if ok else 'MISMATCH'}")
        print(size_line("index after update", settings.index_dir))

        parent.send(("ask", None))
        after: Served = receive(parent, server)
        print(f"{'serving, new version':<22} taken up in {after.seconds:.1f} s (first query after the update)")
        print(latency_line("queries after update", after))
        parent.send(None)
        server.join()
    return 0 if ok else 1


def receive(parent: Connection, server: Any) -> Any:
    """The serving process's next reply; exits with a message when that process has died (a crash there
    would otherwise leave this one waiting for ever)."""
    while not parent.poll(1.0):
        if not server.is_alive():
            raise SystemExit(f"the serving process died (exit code {server.exitcode}); its traceback is above")
    return parent.recv()


if __name__ == "__main__":
    sys.exit(main())
