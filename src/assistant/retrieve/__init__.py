"""Retrieve: a question (and the turn before it) → the best passages of one index version.
Takes the index and the embedder; hands on ranked `Passage`s, dense and Danish BM25 search fused."""

from assistant.retrieve.danish_analyzer import DanishAnalyzer
from assistant.retrieve.language import detect_language
from assistant.retrieve.lexical import LexicalIndex
from assistant.retrieve.retriever import Filters, Passage, Query, Retriever, Snapshot, condense, is_follow_up

__all__ = ["DanishAnalyzer", "Filters", "LexicalIndex", "Passage", "Query", "Retriever", "Snapshot", "condense",
           "detect_language", "is_follow_up"]
