"""Side by side: our pipeline and the one a user would otherwise write, on the same corpus.

    .venv/bin/python -m bench.baseline [--shared ../shared]

Theirs: every markdown file read as text, langchain's RecursiveCharacterTextSplitter (sized with
the model's tokenizer), HuggingFaceEmbeddings, langchain-chroma, rebuilt from scratch on every
update, queried with similarity_search. Ours: the incremental pipeline and the hybrid Assistant.
Prints full ingest time, update time (2026-02-15 → 2026-07-14), page hit@5 / MRR@10 on the dev set,
query latency, and our/their ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from assistant.offline import go_offline
from bench import SHARED

go_offline()

T = TypeVar("T")

from assistant.embed.embedder import prompts, resolve_model  # noqa: E402
from assistant.eval import Question, load_questions, metrics, ranks  # noqa: E402
from assistant.serve.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402


@cache
def langchain_embeddings(model: str, cache_dir: Path) -> tuple[Any, str]:
    """(langchain's HuggingFaceEmbeddings of the model, with its query/passage prompts, the model's
    folder), loaded once per process."""
    from langchain_huggingface import HuggingFaceEmbeddings

    path = resolve_model(model, cache_dir)
    prompt = prompts(model, path)
    embeddings = HuggingFaceEmbeddings(
        model_name=path, encode_kwargs={"normalize_embeddings": True, "prompt": prompt["passage"]},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": prompt["query"]})
    return embeddings, path


class LangchainPipeline:
    def __init__(self, model: str, folder: Path, cache_dir: Path | None = None) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from transformers import AutoTokenizer

        self.embeddings, path = langchain_embeddings(model, cache_dir or folder / "model-cache")
        self.splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
            AutoTokenizer.from_pretrained(path), chunk_size=200, chunk_overlap=20)
        self.folder = folder
        self.store: Any = None  # langchain_chroma.Chroma once built

    def build(self, site: Path) -> int:
        """From scratch, as the tutorials do: read, split, embed, store."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document

        docs = []
        for file in sorted(site.rglob("*.md")):
            if file.is_file() and not any(part.startswith((".", "_")) for part in file.relative_to(site).parts):
                text = file.read_text(encoding="utf-8", errors="replace")
                docs.append(Document(text, metadata={"path": file.relative_to(site).as_posix()}))
        chunks = self.splitter.split_documents(docs)
        client = chromadb.PersistentClient(str(self.folder / f"chroma-{time.time_ns()}"),
                                           settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma.from_documents(chunks, self.embeddings, client=client, collection_name="docs")
        return len(chunks)

    def search(self, question: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        assert self.store is not None
        return [(d.metadata["path"], (), ()) for d in self.store.similarity_search(question, k=10)]


def timed(fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    old = args.shared / "corpus" / "os2produktmodning-2026-02-15"
    new = args.shared / "corpus" / "os2produktmodning"
    questions = load_questions(args.shared / "eval" / "dev-os2produktmodning.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "ours")
        spec = lambda site: [SourceSpec("os2produktmodning", site)]  # noqa: E731
        _, our_full = timed(lambda: ingest(settings, spec(old), progress=False))
        _, our_update = timed(lambda: ingest(settings, spec(new), progress=False))
        assistant = Assistant.open(settings)
        their = LangchainPipeline(settings.embedding_model, Path(tmp))
        _, their_full = timed(their.build, old)
        _, their_update = timed(their.build, new)  # no incremental path: rebuild

        def evaluate(search: Callable[[Question], list]) -> tuple[dict, list[float]]:
            rows, latencies = [], []
            for q in questions:
                started = time.perf_counter()
                ranked = search(q)
                latencies.append((time.perf_counter() - started) * 1000)
                rows.append((q, ranks(q, ranked)))
            return metrics(rows), latencies

        ours, our_lat = evaluate(lambda q: [(p.chunk.path, p.chunk.headings, p.chunk.covers)
                                            for p in assistant.retrieve(q.question, q.history, k=10).passages])
        theirs, their_lat = evaluate(lambda q: their.search(q.question))
    rows = [
        ("full ingest (s)", our_full, their_full),
        ("update 02-15 → 07-14 (s)", our_update, their_update),
        ("page hit@5", ours["page hit@5"], theirs["page hit@5"]),
        ("page MRR@10", ours["page MRR@10"], theirs["page MRR@10"]),
        ("query p50 (ms)", statistics.median(our_lat), statistics.median(their_lat)),
    ]
    print("| measure | ours | langchain baseline | ours / theirs |\n|---|---|---|---|")
    for name, a, b in rows:
        print(f"| {name} | {a:.2f} | {b:.2f} | {a / b:.2f} |" if b else f"| {name} | {a:.2f} | {b:.2f} | – |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
