"""Citations: numbered in order of first use, one per section, with a text-fragment link.

A citation opens the page and heading anchor the real site serves; `fragment_url` adds a
`:~:text=` directive that highlights the quoted sentence in browsers that support it. A site with no
published address has root-relative page URLs (`/docs/x.html`: the path on a host nobody told the
ingest); its citations keep that URL, and every interface shows them as title and path, not as a
link (which would open on the wrong host and be dead): only an absolute http(s) `url` is a link.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from assistant.models import Answer, Citation
from assistant.retrieve.retriever import Passage
from assistant.text import LIST_ITEM

SNIPPET_CHARS = 280
NOT_FOUND = {
    "da": "Det kan jeg ikke finde i dokumentationen.",
    "en": "I can't find that in the documentation.",
}
MAYBE = {"da": "Måske relevant:", "en": "Possibly relevant:"}


def text_fragment(url: str, sentence: str, words: int = 8) -> str:
    """`url` + `:~:text=` with the sentence's first words (spec: '-', '&' and ',' percent-encoded)."""
    start = " ".join(re.sub(r"^[-*\d.)\s]+", "", sentence).split()[:words])
    if not start:
        return url
    encoded = quote(start, safe="").replace("-", "%2D")
    return f"{url}{'' if '#' in url else '#'}:~:text={encoded}"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


class CitationList:
    """Collects citations as an answer cites passages; the same section is cited once."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._by_url: dict[str, Citation] = {}

    def cite(self, passage: Passage, quoted: str = "") -> int:
        chunk = passage.chunk
        existing = self._by_url.get(chunk.url)
        if existing is not None:
            return existing.n
        citation = Citation(
            n=len(self.citations) + 1,
            title=chunk.title,
            breadcrumb=" › ".join(chunk.breadcrumb),
            heading=chunk.heading,
            url=chunk.url,
            fragment_url=text_fragment(chunk.url, quoted) if quoted else chunk.url,
            snippet=snippet(LIST_ITEM.sub("", quoted, count=1) if quoted else chunk.text),  # as the answer says it
            score=round(passage.score, 4),
            source=chunk.source,
            path=chunk.path,
        )
        self.citations.append(citation)
        self._by_url[chunk.url] = citation
        return citation.n


def cite_all(passages: Sequence[Passage]) -> list[Citation]:
    citations = CitationList()
    for passage in passages:
        citations.cite(passage)
    return citations.citations


def not_found_answer(passages: Sequence[Passage], language: str) -> Answer:
    """The abstention: says the docs do not answer it, and cites the (up to) three closest pages."""
    closest: list[Passage] = []
    seen: set[tuple[str, str]] = set()
    for passage in passages:
        key = (passage.chunk.source, passage.chunk.path)
        if key not in seen:
            seen.add(key)
            closest.append(passage)
        if len(closest) == 3:
            break
    citations = cite_all(closest)
    text = NOT_FOUND[language]
    if citations:
        text += f"\n{MAYBE[language]} " + "; ".join(f"{c.title} [{c.n}]" for c in citations)
    return Answer(text=text, answered=False, citations=citations, language=language)
