"""The Assistant: the one object the CLI, the web chat, the HTTP API, the widget and MCP all call.

It validates the question, retrieves passages from one index snapshot, decides whether the evidence
is strong enough to answer, and has the configured answerer write the answer with citations. It also
answers what the admin page and the MCP tools show of the index (chunks per source, the last ingest,
the documentation gaps). Its errors are raised, never turned into replies: the edges do that
(web/failures.py, the command lines).
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.answer.abstain import Verdict, decide
from assistant.answer.answerer import Answerer, AnswerRequest, final_answer
from assistant.answer.citations import NOT_FOUND, not_found_answer  # noqa: F401 - NOT_FOUND re-exported
from assistant.answer.evidence import QueryEvidence
from assistant.answer.expect import question_parts
from assistant.answer.extractive import stream_words
from assistant.answer.factory import make_answerer
from assistant.answer.meaning import SentenceScorer, SentenceVectors, remembered
from assistant.errors import AssistantError, QuestionError, StorageFullError, is_disk_full
from assistant.index.factory import open_catalog, writer_lock
from assistant.index.store import VectorCheck, check_vectors
from assistant.models import MAX_QUESTION_CHARS, Answer, History
from assistant.read.reader import make_reader
from assistant.retrieve.language import detect_language
from assistant.retrieve.retriever import Filters, Passage, Query, Retriever, condense, is_follow_up
from assistant.serve.examples import Judged, candidates, choose
from assistant.serve.gaps import Gap, group_gaps
from assistant.serve.pages import DocPage, SiteInfo, find_pages, pages_from_chunks, site_infos
from assistant.settings import Settings

log = logging.getLogger("assistant")

EXAMPLE_POOL = 12  # example questions kept per index version; the chat shows a few at a time
_EXAMPLES_LOCK = threading.Lock()


@dataclass
class Retrieval:
    """What one question found, from one index version."""

    question: str  # cleaned
    query: Query  # standalone (a follow-up carries the conversation's terms)
    evidence: QueryEvidence  # of the question as asked
    judged: QueryEvidence  # of the standalone query: what abstention is decided on
    passages: list[Passage]
    score: SentenceScorer  # sentences → similarity to the (standalone) question
    parts: list[SentenceScorer] = field(default_factory=list)  # per question a compound one asks (expect.py)


class Assistant:
    def __init__(self, settings: Settings, retriever: Retriever, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self.retriever = retriever
        self.answerer = answerer or make_answerer(settings)
        self.vector_check = VectorCheck()  # of the index as opened: see check_vectors
        embedder = retriever.embedder
        # The reader scores the prose sentences; their vectors are embedded at ingest into the cache.
        self.reader = make_reader(settings, retriever.query_vector, lambda texts: embedder.embed_passages(texts))
        self.sentences = SentenceVectors(Path(settings.embedding_cache_dir or settings.index_dir),
                                         self.reader.key, self.reader.sentence_vectors)
        self.read_only = ""  # why the index is served from a copy that re-ingests do not reach

    @classmethod
    def open(cls, settings: Settings) -> Assistant:
        try:
            assistant = cls(settings, Retriever.open(settings))
        except (AssistantError, sqlite3.Error, OSError) as exc:
            if settings.chroma_host or not is_disk_full(exc, Path(settings.index_dir)):
                raise
            return cls.open_copy_in_memory(settings)
        assistant.check_vectors()
        return assistant

    @classmethod
    def open_copy_in_memory(cls, settings: Settings) -> Assistant:
        """Serve an embedded index whose disk is full: SQLite and Chroma cannot open a database they
        cannot write to, so a copy in memory (/dev/shm) is opened instead. Re-ingests still write to
        the real index (and fail until space is freed); this process serves the copy until restarted."""
        index = Path(settings.index_dir)
        size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
        for parent in (Path("/dev/shm"), Path(tempfile.gettempdir())):
            try:
                if shutil.disk_usage(parent).free > 2 * size + 64 * 1024 * 1024:
                    copy = Path(tempfile.mkdtemp(prefix="assistant-index-", dir=parent))
                    break
            except OSError:
                continue
        else:
            raise StorageFullError(f"The disk of the index {index} is full, and no other disk has room for a copy "
                                   "of it: free some space and start again")
        atexit.register(shutil.rmtree, copy, True)
        shutil.copytree(index, copy / "index", ignore=shutil.ignore_patterns("*.lock"))
        served = settings.model_copy(update={"index_dir": copy / "index",
                                             "embedding_cache_dir": None})
        assistant = cls(served, Retriever.open(served))
        assistant.settings = settings  # re-ingests and the lock belong to the real index
        assistant.read_only = (f"disken med indekset {index} er fuld: indekset vises fra en kopi i hukommelsen, "
                               "og genindlæsning virker først, når der er frigjort plads og appen er genstartet")
        log.error("The disk of %s is full: serving a read-only copy of the index from %s (%.1f MB). Free some "
                  "space, then restart the app.", index, copy, size / 1e6)
        return assistant

    def check_vectors(self) -> VectorCheck:
        """Every live chunk has a readable vector; the missing ones are written again (store.check_vectors)."""
        retriever = self.retriever
        self.vector_check = check_vectors(retriever.store, lambda: retriever.snapshot().chunks, self.settings,
                                          retriever.embedder.embed_passages, lambda: writer_lock(self.settings))
        return self.vector_check

    def search(self, query: str, k: int = 8, filters: Filters | None = None) -> list[Passage]:
        return self.retrieve(query, None, filters, k).passages

    def retrieve(self, question: str, history: History | None = None, filters: Filters | None = None,
                 k: int = 8) -> Retrieval:
        question = clean_question(question)
        query = replace(self.condense(question, history), language=detect_language(question))
        snapshot = self.retriever.snapshot()  # one index version for the whole answer
        evidence = QueryEvidence(question, snapshot)
        # A follow-up is judged with the terms it carries over ("hvad koster det?" alone covers little).
        judged = QueryEvidence(query.lexical_text, snapshot, asks=question) if query.context else evidence
        if judged.expectation is not None and judged.expectation.specific:
            query = replace(query, prefer=judged.states_expected)
        passages = self.retriever.search(query, k, filters, snapshot=snapshot)
        score = remembered(self.sentences.scorer(self.reader.question_vector(query.dense_text)))
        parts = [remembered(self.sentences.scorer(self.reader.question_vector(part)))
                 for part in question_parts(question)] if passages else []
        return Retrieval(question, query, evidence, judged, passages, score, parts)

    def ask(self, question: str, history: History | None = None, filters: Filters | None = None) -> Answer:
        return final_answer(self.stream(question, history, filters))

    def stream(self, question: str, history: History | None = None,
               filters: Filters | None = None) -> Iterator[str | Answer]:
        """Text pieces as they come, then the final Answer (whose text is authoritative)."""
        found = self.retrieve(question, history, filters)
        language = found.query.language
        verdict = self.decide(found)
        if not verdict.answer:
            answer = replace(self.abstain(found.passages, language), reason=verdict.reason)
            yield from stream_words(answer.text)
            yield answer
            return
        request = AnswerRequest(found.question, language, found.passages, found.evidence, list(history or []),
                                found.score, found.parts)
        yield from self.answerer.stream(request)

    def condense(self, question: str, history: History | None) -> Query:
        """A follow-up as a standalone query: rewritten by the LLM when one is configured (falling
        back to the previous turn's terms if it fails), else by carrying the previous turn's terms."""
        carried = condense(question, history)
        rewrite = getattr(self.answerer, "condense_question", None)
        if history and carried.context and rewrite is not None:
            standalone = rewrite(question, history)
            if standalone:
                return Query(standalone)
        return carried

    def decide(self, found: Retrieval) -> Verdict:
        """Whether the passages answer the question, and if not, which check says so (answer/abstain.py).
        A follow-up is judged with the terms it carries over; names and "hvilken X" of the question as asked."""
        dangling = not found.query.context and is_follow_up(found.question)
        return decide(self.settings, found.judged, found.evidence, found.passages, found.query.language, found.score,
                      dangling)

    def abstain(self, passages: list[Passage], language: str) -> Answer:
        return not_found_answer(passages, language)

    def chunks_per_source(self) -> dict[str, int]:
        """How many chunks each source has in the current index version."""
        counts: dict[str, int] = {}
        for chunk in self.retriever.snapshot().chunks.values():
            counts[chunk.source] = counts.get(chunk.source, 0) + 1
        return counts

    def last_report(self) -> dict:
        """The summary the catalog keeps of the last ingest (ingest/pipeline.py); {} when there is none,
        the catalog cannot be read or the summary is damaged (logged)."""
        try:
            catalog = open_catalog(self.settings)
            raw = catalog.get_meta("last_report")
            catalog.close()
            report = json.loads(raw) if raw else {}
        except (AssistantError, ValueError) as exc:
            log.warning("the last ingest report cannot be read: %s", exc)
            return {}
        return report if isinstance(report, dict) else {}

    def documentation_gaps(self, questions: list[dict]) -> list[Gap]:
        """Logged questions it could not answer (feedback.FeedbackStore.gap_questions) grouped by their
        terms in the current index's Danish analysis, largest group first (gaps.py)."""
        return group_gaps(questions, self.retriever.snapshot().analyzer)

    def status(self) -> dict:
        snap = self.retriever.snapshot()
        return {"version": snap.version, "pages": snap.pages, "chunks": len(snap.chunks),
                "sources": snap.sources, "last_ingest": snap.last_ingest,
                # live chunks whose vector could not be read when the index was opened, and how many were
                # written again: {checked, missing, repaired, embedded, seconds, error, at}
                "vectors": self.vector_check.to_dict(), **({"read_only": self.read_only} if self.read_only else {})}

    def pages(self) -> list[DocPage]:
        """Every page of the current index version, put together from its chunks (once per version)."""
        return self._published()[1]

    def sites(self) -> list[SiteInfo]:
        """Each source as a site (title, description, home URL, pages), for list_sources and llms.txt."""
        return self._published()[2]

    def _published(self) -> tuple[int, list[DocPage], list[SiteInfo]]:
        snapshot = self.retriever.snapshot()
        cached: tuple[int, list[DocPage], list[SiteInfo]] | None = getattr(self, "_published_cache", None)
        if cached is None or cached[0] != snapshot.version:
            pages = pages_from_chunks(snapshot.chunks.values())
            cached = self._published_cache = (snapshot.version, pages, site_infos(self.settings, pages))
        return cached

    def get_page(self, reference: str) -> DocPage:
        """The page a URL, a path or a resource URI names (pages.find_pages); QuestionError if none or several."""
        reference = " ".join((reference or "").split())
        if not reference or len(reference) > MAX_QUESTION_CHARS:
            raise QuestionError("Angiv en side med dens URL eller sti (Give a page by its URL or path), "
                                f"1-{MAX_QUESTION_CHARS} tegn.")
        found = find_pages(self.pages(), reference)
        if not found:
            raise QuestionError(f"Siden {reference[:200]!r} findes ikke i indekset (no such page in the index): "
                                "brug en URL fra search_docs eller list_sources.")
        if len(found) > 1:
            sources = ", ".join(sorted(p.source for p in found))
            raise QuestionError(f"Stien {reference[:200]!r} findes i flere kilder ({sources}): skriv kilde:sti "
                                "(the path is in several sources: write source:path).")
        return found[0]

    def example_questions(self, n: int = 4) -> list[str]:
        """n questions the pages answer well, the next n of them on each call (examples.py writes
        the candidates; kept are those answered, with a high score, from their own page). The pool
        is chosen once per index version: ~10 ms a candidate after the first. [] when they cannot
        be chosen (logged): examples are a nicety, the chat works without them."""
        try:
            return self._next_examples(n)
        except Exception:  # noqa: BLE001 - logged; no examples is no reason to fail a page
            log.warning("no example questions: they could not be chosen", exc_info=True)
            return []

    def _next_examples(self, n: int) -> list[str]:
        snapshot = self.retriever.snapshot()
        with _EXAMPLES_LOCK:
            cached: tuple[int, list[str]] | None = getattr(self, "_examples_cache", None)
            if cached is None or cached[0] != snapshot.version:
                threshold = self.settings.abstain_sentence
                pool = choose(candidates(snapshot.chunks.values()), self._judge_example,
                              min_score=threshold + (1 - threshold) / 2, limit=EXAMPLE_POOL)
                cached = self._examples_cache = (snapshot.version, pool)
                self._examples_turn = 0
            pool = cached[1]
            if len(pool) <= n:
                return list(pool)
            start = self._examples_turn % len(pool)
            self._examples_turn = start + n
            return (pool + pool)[start:start + n]

    def _judge_example(self, question: str) -> Judged:
        found = self.retrieve(question)
        verdict = self.decide(found)
        top = found.passages[0].chunk if found.passages else None
        return Judged(verdict.answer, verdict.sentence, (top.source, top.path) if top else None)


def clean_question(question: str) -> str:
    text = " ".join((question or "").split())
    if not text:
        raise QuestionError("Skriv et spørgsmål — feltet er tomt.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"Spørgsmålet er for langt ({len(text)} tegn); højst {MAX_QUESTION_CHARS} tegn.")
    return text
