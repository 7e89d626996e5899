"""Reading: which sentence of the retrieved passages answers the question, and how well.

Takes a question and candidate sentences (in context, as assistant/text.py `in_context` makes them);
hands on one score per sentence (`Reader`): the trained reader's (reader.py, weights.py) or the
embedding model's cosine (the fallback, and the comparison).
"""

from assistant.read.reader import CosineReader, Reader, TrainedReader, make_reader

__all__ = ["CosineReader", "Reader", "TrainedReader", "make_reader"]
