"""Answer: the retrieved passages → a cited answer, or a decline that names the check that declined.
Takes an `AnswerRequest` (question, passages, evidence); hands on streamed text, then one `Answer`."""

from assistant.answer.abstain import Verdict, decide
from assistant.answer.answerer import ANSWERERS, Answerer, AnswerRequest, final_answer, register
from assistant.answer.citations import NOT_FOUND, not_found_answer
from assistant.answer.evidence import QueryEvidence
from assistant.answer.factory import make_answerer
from assistant.answer.meaning import SentenceScorer, SentenceVectors

__all__ = ["ANSWERERS", "NOT_FOUND", "AnswerRequest", "Answerer", "QueryEvidence", "SentenceScorer", "SentenceVectors",
           "Verdict", "decide", "final_answer", "make_answerer", "not_found_answer", "register"]
