"""Read: which sentence of the retrieved passages answers the question, and how well (`Reader`).
Takes a question and candidate sentences in context; hands on a score per sentence (trained or cosine)."""

from assistant.read.reader import CosineReader, Reader, TrainedReader, make_reader

__all__ = ["CosineReader", "Reader", "TrainedReader", "make_reader"]
