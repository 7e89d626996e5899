"""Which language a question is in: Danish or English (the answer follows it). No model needed."""

import re

_DA = {"hvad", "hvem", "hvor", "hvordan", "hvorfor", "hvornår", "hvornar", "hvilke", "hvilken", "hvilket",
       "er", "og", "det", "den", "til", "af", "på", "paa", "med", "jeg", "kan", "skal", "man", "ikke", "om",
       "der", "som", "en", "et", "har", "mange", "meget", "bliver", "blev", "må", "ma", "sin", "hos"}
_EN = {"what", "who", "where", "how", "why", "when", "which", "is", "are", "the", "and", "of", "to", "in",
       "on", "with", "do", "does", "can", "must", "should", "for", "a", "an", "into", "at", "least", "many",
       "much", "be", "it", "its", "their", "there", "by"}


def detect_language(text: str) -> str:
    if re.search(r"[æøåÆØÅ]", text):
        return "da"
    words = re.findall(r"[a-zA-Z]+", text.lower())
    da = sum(w in _DA for w in words)
    en = sum(w in _EN for w in words)
    return "en" if en > da else "da"
