"""Retrieval and abstention evaluation a user can run on their own site.

    python -m bench.eval --questions questions.jsonl --source path/to/site [--index DIR]

Ingests the site (incrementally) and prints the tables of assistant/eval.py for the assistant and for
two baselines a user would otherwise pick: dense-only (langchain + Chroma over the same model and
store) and BM25 with default tokenisation. Given several question files (one --source each), it ends
with the table of all of them together.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.eval import Question, Result, declined_by, evaluate, load_questions, table, write_details
from assistant.models import Chunk
from assistant.offline import go_offline
from assistant.settings import Settings

Search = Callable[[str], list[tuple[str, tuple[str, ...], tuple[str, ...]]]]  # question → ranked (path, headings, covers)


def dense_baseline(settings: Settings, collection: str) -> Search:
    """The plain langchain + Chroma retriever over the same model and store."""
    from langchain_chroma import Chroma

    from assistant.index.store import chroma_client
    from bench.baseline import langchain_embeddings

    client, _ = chroma_client(settings)
    embeddings, _ = langchain_embeddings(settings.embedding_model, Path(settings.cache_dir))
    store = Chroma(client=client, collection_name=collection, embedding_function=embeddings)

    def search(question: str) -> list:
        docs = store.similarity_search(question, k=10)
        return [_ranked(d.metadata) for d in docs]

    return search


def bm25_baseline(chunks: list[Chunk]) -> Search:
    """bm25s with its default tokenisation (no stemming, no Danish analysis)."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([c.embed_text for c in chunks], show_progress=False), show_progress=False)

    def search(question: str) -> list:
        tokens = bm25s.tokenize([question], show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = retriever.retrieve(tokens, k=min(10, len(chunks)), show_progress=False)
        return [(chunks[i].path, chunks[i].headings, chunks[i].covers) for i in docs[0]]

    return search


def _ranked(meta: dict) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    split = lambda v: tuple(h for h in str(v or "").split("\x1f") if h)  # noqa: E731
    return meta["path"], split(meta.get("headings")), split(meta.get("covers"))


def main(argv: list[str] | None = None) -> int:
    go_offline()
    parser = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, required=True, action="append", help="JSONL file (repeatable)")
    parser.add_argument("--source", type=Path, required=True, action="append", help="site folder (one per file)")
    parser.add_argument("--index", type=Path, help="index folder (default: data/eval/<site name>; with "
                        "several sites, one subfolder per site name)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--split", choices=("tune", "holdout"), help="only the questions of this split")
    parser.add_argument("--details", type=Path, help="write each question's answer, decline reason and "
                        "scores to this JSONL file")
    args = parser.parse_args(argv)
    if len(args.questions) != len(args.source):
        parser.error("give one --source per --questions file")

    from assistant.index.factory import open_catalog
    from assistant.index.store import collection_name
    from assistant.serve.service import Assistant
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    combined: dict[str, list[tuple[Question, Result]]] = {}
    for questions_file, source in zip(args.questions, args.source, strict=True):
        name = source.resolve().name
        index = (args.index / name if len(args.questions) > 1 else args.index) if args.index else Path("data/eval") / name
        settings = Settings(index_dir=index)
        report = ingest(settings, [SourceSpec(name=name, path=source.resolve())], progress=False)
        if report.failed:
            print(f"error: {report.sources[0].error}", file=sys.stderr)
            return 1
        assistant = Assistant.open(settings)
        baselines = {}
        if not args.no_baselines:
            baselines["dense only (langchain + Chroma)"] = dense_baseline(
                settings, collection_name(settings.collection, settings.chunking_signature()))
            catalog = open_catalog(settings, must_exist=True)
            try:
                baselines["BM25 default tokenisation"] = bm25_baseline([c for _, c in catalog.chunks()])
            finally:
                catalog.close()
        questions = [q for q in load_questions(questions_file) if not args.split or q.split == args.split]
        systems = evaluate(questions, assistant, baselines)
        if args.details:
            write_details(args.details, systems["assistant"])
        print(table(f"{questions_file.name} on {source.resolve().name}", systems))
        print(declined_by(systems["assistant"]))
        print()
        for system, rows in systems.items():
            combined.setdefault(system, []).extend(rows)
    if len(args.questions) > 1:  # the targets hold for all questions together, kind by kind
        print(table(f"all {len(args.questions)} question files", combined))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
