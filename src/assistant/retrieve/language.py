"""Which language a question is in: Danish or English (the answer follows it). No model needed."""

import re

from assistant.retrieve.danish import DANISH_HINT_WORDS, ENGLISH_HINT_WORDS

_TRANSLITERATED = re.compile(r"aa|oe|ae")


def detect_language(text: str) -> str:
    if re.search(r"[æøåÆØÅ]", text):
        return "da"
    words = re.findall(r"[a-zA-Z]+", text.lower())
    # æ/ø/å typed as ae/oe/aa ("hvornaar ophoerer") are Danish words too
    da = sum(w in DANISH_HINT_WORDS or (_TRANSLITERATED.search(w) is not None and w not in ENGLISH_HINT_WORDS)
             for w in words)
    en = sum(w in ENGLISH_HINT_WORDS for w in words)
    return "en" if en > da else "da"
