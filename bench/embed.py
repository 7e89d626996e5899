"""Embedding backends side by side: torch vs ONNX (fp32) vs ONNX int8 (issue #6).

    .venv/bin/python -m bench.embed [--shared ../shared] [--rounds 2] [--backends torch onnx onnx-int8]

1. Speed: the ~460 chunk texts of os2produktmodning (chunked as ingest does) embedded by each backend
   at batch 8 and 32 with all cores; rounds are interleaved across backends and the best round counts
   (other work on the machine only ever slows a round down). Also one-question latency with 1 thread,
   as a serving process embeds.
2. Agreement: mean and minimum cosine between a backend's vector of a text and torch's.
3. Retrieval: the dev sets of the eval tool (`assistant.eval.evaluate`, page hit@5 of the assistant's
   retriever), each site ingested into a temporary index with that backend's vectors. Until
   `settings.embedding_backend` exists, the vectors reach the index through the embedding cache: the
   bench fills it with the backend's vectors and checks that the ingest computed none itself.

Prints a markdown table and which backend the rule of issue #6 picks: the fastest whose page hit@5 is
within 0.01 of torch's on every dev set. ONNX exports are made in (or reused from) the environment's
model cache (ASSISTANT_MODEL_CACHE_DIR, model_cache.py) unless --model-cache-dir names another.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.offline import go_offline
from bench import SHARED

go_offline()

from assistant.embed.embedder import BACKENDS, Embedder, embedding_key, load_token_counter  # noqa: E402
from assistant.embed.embedder import make_embedder as new_embedder  # noqa: E402
from assistant.eval import Question, load_questions, metrics  # noqa: E402
from assistant.index.embedding_cache import EmbeddingCache  # noqa: E402
from assistant.models import Chunk  # noqa: E402
from assistant.retrieve.retriever import Retriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from ingest.chunk import ChunkSizes, chunk_page  # noqa: E402
from ingest.site import scan_site  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEV_SETS = [("dev-os2produktmodning.jsonl", "os2produktmodning"), ("dev-os2borgerpc-docs.jsonl", "os2borgerpc-docs")]
BATCHES = (8, 32)


@dataclass
class Row:
    backend: str
    speed: dict[int, list[float]] = field(default_factory=dict)  # batch → chunks/s per round
    vectors: dict[int, np.ndarray] = field(default_factory=dict)  # batch → vectors of the speed texts
    query_ms: float = 0.0
    load_s: float = 0.0
    hit5: dict[str, float] = field(default_factory=dict)  # dev set → page hit@5
    section5: dict[str, float] = field(default_factory=dict)
    mrr: dict[str, float] = field(default_factory=dict)
    dense5: dict[str, float] = field(default_factory=dict)  # dev set → page hit@5 of dense retrieval alone
    abstain: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # precision, recall, wrong rate


def site_chunks(settings: Settings, root: Path) -> list[Chunk]:
    """The chunks ingest makes of a site (same scan, same sizes, same token counter)."""
    count = load_token_counter(settings.embedding_model, settings.cache_dir)
    sizes = ChunkSizes.of(settings)
    return [c for page in scan_site(root, root.name).pages for c in chunk_page(page, count, sizes)]


def make_embedder(settings: Settings, backend: str, model_cache_dir: Path | None) -> Embedder:
    embedder = new_embedder(settings.embedding_model, settings.embedding_batch_size, backend,
                            settings.cache_dir, model_cache_dir or settings.model_cache_dir)
    embedder.embed_passages(["opvarmning"])  # load (and for ONNX export once) outside the timings
    return embedder


def measure_speed(rows: dict[str, Row], embedders: dict[str, Embedder], texts: list[str],
                  rounds: int) -> None:
    threads = os.cpu_count() or 1
    for _ in range(rounds):
        for backend, embedder in embedders.items():
            embedder.use_threads(threads)
            for batch in BATCHES:
                embedder.batch_size = batch
                started = time.perf_counter()
                vectors = embedder.embed_passages(texts)
                rows[backend].speed.setdefault(batch, []).append(len(texts) / (time.perf_counter() - started))
                rows[backend].vectors[batch] = vectors


def measure_query(rows: dict[str, Row], embedders: dict[str, Embedder], questions: list[str]) -> None:
    for backend, embedder in embedders.items():
        embedder.use_threads(1)  # as a serving process (settings.query_threads)
        times = []
        for question in questions:
            started = time.perf_counter()
            embedder.embed_queries([question])
            times.append(1000 * (time.perf_counter() - started))
        rows[backend].query_ms = statistics.median(times)


def evaluate_backend(row: Row, embedder: Embedder, base: Settings, shared: Path, work: Path,
                     known: dict[str, np.ndarray]) -> None:
    from assistant.eval import evaluate
    from assistant.index.store import collection_name, open_store
    from assistant.serve.service import Assistant
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    embedder.use_threads(base.query_threads)
    embedder.batch_size = base.embedding_batch_size
    for questions_file, site in DEV_SETS:
        root = (shared / "corpus" / site).resolve()
        folder = work / row.backend / site
        update: dict = {"index_dir": folder / "index", "cache_dir": work / "cache",
                        "embedding_cache_dir": folder / "embeddings"}
        if "embedding_backend" in Settings.model_fields:  # once settings carry it
            update["embedding_backend"] = row.backend
        settings = base.model_copy(update=update)
        chunks = site_chunks(settings, root)
        by_hash = {c.text_hash: c.embed_text for c in chunks}
        missing = [h for h in by_hash if h not in known]
        if missing:
            known.update(zip(missing, embedder.embed_passages([by_hash[h] for h in missing]), strict=True))
        (folder / "embeddings").mkdir(parents=True, exist_ok=True)
        cache = EmbeddingCache(folder / "embeddings")
        vectors = {h: known[h] for h in by_hash}
        for key in {settings.embedding_model, embedding_key(settings.embedding_model, row.backend)}:
            cache.put_many(key, vectors)
        cache.close()
        report = ingest(settings, [SourceSpec(name=root.name, path=root)], progress=False)
        if report.failed or report.chunks_embedded:
            raise SystemExit(f"{row.backend}/{site}: the ingest did not take the {row.backend} vectors from the "
                             f"cache (embedded {report.chunks_embedded}, error {report.sources[0].error})")
        store = open_store(settings, collection_name(settings.collection, settings.chunking_signature()))
        retriever = Retriever(settings, store, embedder)
        retriever.snapshot()
        systems = evaluate(load_questions(shared / "eval" / questions_file), Assistant(settings, retriever), {})
        m = metrics(systems["assistant"])
        row.hit5[site], row.section5[site], row.mrr[site] = m["page hit@5"], m["section hit@5"], m["page MRR@10"]
        row.abstain[site] = (m["abstain precision"], m["abstain recall"], m["wrong abstain rate"])
        row.dense5[site] = dense_only_hit5(retriever, embedder, load_questions(shared / "eval" / questions_file))


def dense_only_hit5(retriever: Retriever, embedder: Embedder, questions: list[Question]) -> float:
    """Page hit@5 of cosine ranking alone: the fused score weighs BM25 0.7, which hides the vectors."""
    from assistant.eval import ranks

    snap = retriever.snapshot()
    ids = list(snap.chunks)
    stored = retriever.store.vectors(ids)
    matrix = np.stack([stored[i] for i in ids])
    rows = []
    for q in questions:
        scores = matrix @ embedder.embed_queries([q.question])[0]
        top = [snap.chunks[ids[i]] for i in np.argsort(-scores)[:10]]
        rows.append((q, ranks(q, [(c.path, c.headings, c.covers) for c in top])))
    return metrics(rows)["page hit@5"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.embed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--rounds", type=int, default=2, help="speed rounds per backend and batch (best counts)")
    parser.add_argument("--model-cache-dir", type=Path, help="where models and ONNX exports are prepared "
                                                           "(default: the environment's model cache)")
    parser.add_argument("--no-eval", action="store_true", help="speed and agreement only")
    args = parser.parse_args(argv)
    backends = ["torch", *[b for b in args.backends if b != "torch"]]  # torch is the reference

    base = Settings()
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        work = Path(tmp)
        speed_chunks = site_chunks(base, args.shared / "corpus" / "os2produktmodning")
        texts = [c.embed_text for c in speed_chunks]
        questions = [q.question for name, _ in DEV_SETS for q in load_questions(args.shared / "eval" / name)]
        print(f"{len(texts)} chunk texts of os2produktmodning, {len(questions)} dev questions; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
        rows = {b: Row(b) for b in backends}
        embedders = {}
        for backend in backends:
            started = time.perf_counter()
            embedders[backend] = make_embedder(base, backend, args.model_cache_dir)
            rows[backend].load_s = time.perf_counter() - started
            where = getattr(embedders[backend], "export_dir", None)  # a backend that exports says where
            print(f"{backend}: ready in {rows[backend].load_s:.1f} s" + (f" (export {where})" if where else ""),
                  flush=True)
        measure_speed(rows, embedders, texts, args.rounds)
        measure_query(rows, embedders, questions)
        print(f"speed measured; load average {os.getloadavg()[0]:.1f}", flush=True)
        if not args.no_eval:
            for backend in backends:
                # the speed run's vectors at the ingest batch size are what ingest would compute
                vectors = rows[backend].vectors.get(base.embedding_batch_size)
                known = {} if vectors is None else {c.text_hash: v for c, v in zip(speed_chunks, vectors, strict=True)}
                evaluate_backend(rows[backend], embedders[backend], base, args.shared, work, known)
                print(f"{backend}: evaluated", flush=True)
        print_table(rows, args.no_eval)
    return 0


def print_table(rows: dict[str, Row], no_eval: bool) -> None:
    sites = [site for _, site in DEV_SETS]
    head = ["backend", "batch", "chunks/s (best)", "chunks/s (median)", "mean cos vs torch", "min cos vs torch",
            "query ms (1 thread, p50)"]
    if not no_eval:
        head += [f"page hit@5 {s}" for s in sites] + [f"section hit@5 {s}" for s in sites] + \
            [f"dense-only page hit@5 {s}" for s in sites] + [f"abstain P/R/wrong {s}" for s in sites]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    reference = rows["torch"]
    for backend, row in rows.items():
        for batch in BATCHES:
            cos = (row.vectors[batch] * reference.vectors[batch]).sum(axis=1)
            cells = [backend, str(batch), f"{max(row.speed[batch]):.1f}", f"{statistics.median(row.speed[batch]):.1f}",
                     f"{cos.mean():.4f}", f"{cos.min():.4f}", f"{row.query_ms:.1f}"]
            if not no_eval:
                cells += [f"{row.hit5[s]:.3f}" for s in sites] + [f"{row.section5[s]:.3f}" for s in sites] + \
                    [f"{row.dense5[s]:.3f}" for s in sites] + ["/".join(f"{x:.2f}" for x in row.abstain[s]) for s in sites]
            print("| " + " | ".join(cells) + " |")
    print()
    if no_eval:
        return
    best = max(BATCHES, key=lambda b: max(reference.speed[b]))
    keeps = [b for b, r in rows.items() if all(r.hit5[s] >= reference.hit5[s] - 0.01 for s in sites)]
    fastest = max(keeps, key=lambda b: max(max(rows[b].speed[batch]) for batch in BATCHES))
    for backend, row in rows.items():
        delta = ", ".join(f"{s} {row.hit5[s] - reference.hit5[s]:+.3f} (MRR@10 {row.mrr[s]:.3f})" for s in sites)
        speed = max(max(row.speed[b]) for b in BATCHES) / max(reference.speed[best])
        verdict = "keeps quality" if backend in keeps else "LOSES quality"
        print(f"- {backend}: page hit@5 vs torch {delta}; {verdict}; {speed:.2f}× torch's best speed")
    print(f"\nRule of issue #6 (fastest backend within 0.01 page hit@5 of torch on every dev set): {fastest}")


if __name__ == "__main__":
    sys.exit(main())
