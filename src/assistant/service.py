"""The Assistant: the one object the CLI, the web chat, the HTTP API and the widget all call.

It validates the question, retrieves passages from one index snapshot, decides whether the evidence
is strong enough to answer, and has the configured answerer write the answer with citations.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.answer import Answerer, AnswerRequest, final_answer, make_answerer
from assistant.answer.citations import NOT_FOUND, not_found_answer  # noqa: F401 - NOT_FOUND re-exported
from assistant.answer.evidence import QueryEvidence
from assistant.answer.extractive import stream_words
from assistant.catalog import writer_lock
from assistant.errors import AssistantError, QuestionError, StorageFullError, is_disk_full
from assistant.language import detect_language
from assistant.models import Answer
from assistant.retrieve import Filters, Passage, Query, Retriever, condense
from assistant.settings import Settings
from assistant.store import VectorCheck, check_vectors

log = logging.getLogger("assistant")

MAX_QUESTION_CHARS = 2000
ANSWER_TYPE_TOP = 5  # passages searched for the kind of fact a question asks for


@dataclass
class Decision:
    answer: bool
    coverage: float
    dense: float


@dataclass
class Retrieval:
    """What one question found, from one index version."""

    question: str  # cleaned
    query: Query  # standalone (a follow-up carries the conversation's terms)
    evidence: QueryEvidence  # of the question as asked
    judged: QueryEvidence  # of the standalone query: what abstention is decided on
    passages: list[Passage]


class Assistant:
    def __init__(self, settings: Settings, retriever: Retriever, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self.retriever = retriever
        self.answerer = answerer or make_answerer(settings)
        self.vector_check = VectorCheck()  # of the index as opened: see check_vectors
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

    def retrieve(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
                 k: int = 8) -> Retrieval:
        question = clean_question(question)
        query = replace(self.condense(question, history), language=detect_language(question))
        snapshot = self.retriever.snapshot()  # one index version for the whole answer
        evidence = QueryEvidence(question, snapshot)
        # A follow-up is judged with the terms it carries over ("hvad koster det?" alone covers little).
        judged = QueryEvidence(query.lexical_text, snapshot) if query.context else evidence
        if judged.expectation is not None and judged.expectation.specific:
            query = replace(query, prefer=judged.states_expected)
        passages = self.retriever.search(query, k, filters, snapshot=snapshot)
        return Retrieval(question, query, evidence, judged, passages)

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None) -> Answer:
        return final_answer(self.stream(question, history, filters))

    def stream(self, question: str, history: list[dict] | None = None,
               filters: Filters | None = None) -> Iterator[str | Answer]:
        """Text pieces as they come, then the final Answer (whose text is authoritative)."""
        found = self.retrieve(question, history, filters)
        language = found.query.language
        decision = self.decide(found.judged, found.passages, language, found.evidence)
        if not decision.answer:
            answer = self.abstain(found.passages, language)
            yield from stream_words(answer.text)
            yield answer
            return
        request = AnswerRequest(found.question, language, found.passages, found.evidence, list(history or []))
        yield from self.answerer.stream(request)

    def condense(self, question: str, history: list[dict] | None) -> Query:
        """A follow-up as a standalone query: rewritten by the LLM when one is configured (falling
        back to the previous turn's terms if it fails), else by carrying the previous turn's terms."""
        carried = condense(question, history)
        rewrite = getattr(self.answerer, "condense_question", None)
        if history and carried.context and rewrite is not None:
            standalone = rewrite(question, history)
            if standalone:
                return Query(standalone)
        return carried

    def decide(self, evidence: QueryEvidence, passages: list[Passage], language: str,
               asked: QueryEvidence | None = None) -> Decision:
        """Answer only when the passages cover enough of the question (Danish) or are close enough
        in meaning (English, whose words Danish pages do not contain), and, when the question asks
        for a price, a count or a date, one of the best passages states one."""
        if not passages:
            return Decision(False, 0.0, 0.0)
        coverage = evidence.best_coverage(passages)
        dense = max(p.dense for p in passages[:3])
        if language == "en":
            ok = dense >= self.settings.abstain_dense or coverage >= self.settings.abstain_coverage
        else:
            # Mostly words the pages never use ("rødgrød", "fløde"): the topic is not in the docs.
            ok = coverage >= self.settings.abstain_coverage and evidence.unknown_share <= self.settings.abstain_unknown
            # "Hvilket antivirusprogram ...?" where the pages never name one: nothing to choose from.
            # A name no page has ("Active Directory"): English questions translate names ("the
            # Steering Group"), so only Danish ones are held to the pages' names.
            # (Names and "hvilken X" of the question as asked, not of the terms a follow-up carries.)
            asked = asked or evidence
            ok = ok and asked.unknown_focus is None and asked.unknown_name is None
        ok = ok and any(evidence.states_expected(p.chunk) for p in passages[:ANSWER_TYPE_TOP])
        return Decision(ok, coverage, dense)

    def abstain(self, passages: list[Passage], language: str) -> Answer:
        return not_found_answer(passages, language)

    def status(self) -> dict:
        snap = self.retriever.snapshot()
        return {"version": snap.version, "pages": snap.pages, "chunks": len(snap.chunks),
                "sources": snap.sources, "last_ingest": snap.last_ingest,
                # live chunks whose vector could not be read when the index was opened, and how many were
                # written again: {checked, missing, repaired, embedded, seconds, error, at}
                "vectors": self.vector_check.to_dict(), **({"read_only": self.read_only} if self.read_only else {})}


def clean_question(question: str) -> str:
    text = " ".join((question or "").split())
    if not text:
        raise QuestionError("Skriv et spørgsmål — feltet er tomt.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"Spørgsmålet er for langt ({len(text)} tegn); højst {MAX_QUESTION_CHARS} tegn.")
    return text
