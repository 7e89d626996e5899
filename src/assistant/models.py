"""Data that flows through the pipeline: Page → Chunk → (store) → Passage → Citation/Answer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

MAX_QUESTION_CHARS = 2000  # the one limit of a question: the API, chat, MCP and widget (widget.py serves it) use it


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()



def title_line(title: str, headings: Sequence[str]) -> str:
    """The first line of every embedded text: the page title and the heading path, "Titel › Afsnit"."""
    return " › ".join((title, *headings))


def embedded_text(title: str, headings: Sequence[str], text: str) -> str:
    """What is embedded and indexed for a passage (Chunk.embed_text); chunking sizes exactly this."""
    return f"{title_line(title, headings)}\n{text}"


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation: what a person asked, or what the assistant answered."""

    role: Literal["user", "assistant"]
    content: str


History = Sequence[Turn]  # oldest first


def turns_from(raw: Iterable[object]) -> list[Turn]:
    """Turns from JSON-like records `{"role": "user"|"assistant", "content": str}` (a question file, the
    chat's state); a record that is not one is left out."""
    turns = []
    for record in raw:
        if isinstance(record, Turn):
            turns.append(record)
        elif isinstance(record, dict) and record.get("role") in ("user", "assistant"):
            turns.append(Turn(record["role"], str(record.get("content") or "")))
    return turns


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass
class Section:
    """The text under one heading (or before the first heading: heading is None)."""

    heading: Heading | None
    path: tuple[Heading, ...]  # ancestors then self
    blocks: list[str] = field(default_factory=list)  # paragraphs, list items, table rows, code


@dataclass
class Page:
    source: str
    path: str  # relative to the source root, with forward slashes
    url: str  # published URL of the page (no anchor)
    title: str
    breadcrumb: tuple[str, ...]  # grand_parent, parent, title
    date: str
    content_hash: str
    rendered: bool  # False for markdown served as a static file: no heading anchors there
    sections: list[Section]
    links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    file_key: str = ""  # hash of the file's bytes and what reading it depends on (ingest/site.py)


@dataclass
class Chunk:
    source: str
    path: str
    title: str
    breadcrumb: tuple[str, ...]
    headings: tuple[str, ...]  # heading path, outermost first; empty before the first heading
    anchor: str  # "" when the chunk sits before the first heading or on a static file
    url: str  # page URL + "#anchor" when there is one
    date: str
    text: str  # the passage as a reader sees it
    ordinal: int  # position in the page
    covers: tuple[str, ...] = ()  # every heading whose text is in this chunk (merged sections)

    @property
    def heading(self) -> str:
        return self.headings[-1] if self.headings else ""

    @property
    def embed_text(self) -> str:
        """What is embedded and indexed: the passage with its title and heading path in front."""
        return embedded_text(self.title, self.headings, self.text)

    @property
    def text_hash(self) -> str:
        return sha1(self.embed_text)

    @property
    def id(self) -> str:
        return sha1(f"{self.source}\x00{self.path}\x00{self.ordinal}\x00{self.text_hash}")

    def metadata(self) -> dict[str, str | int]:
        return {
            "source": self.source,
            "path": self.path,
            "title": self.title,
            "breadcrumb": " › ".join(self.breadcrumb),
            "headings": "\x1f".join(self.headings),
            "heading": self.heading,
            "anchor": self.anchor,
            "url": self.url,
            "date": self.date,
            "ordinal": self.ordinal,
            "text_hash": self.text_hash,
            "covers": "\x1f".join(self.covers),
        }

    @classmethod
    def from_metadata(cls, text: str, meta: dict) -> Chunk:
        headings = tuple(h for h in str(meta.get("headings", "")).split("\x1f") if h)
        breadcrumb = tuple(b for b in str(meta.get("breadcrumb", "")).split(" › ") if b)
        return cls(
            source=str(meta["source"]),
            path=str(meta["path"]),
            title=str(meta["title"]),
            breadcrumb=breadcrumb,
            headings=headings,
            anchor=str(meta.get("anchor", "")),
            url=str(meta["url"]),
            date=str(meta.get("date", "")),
            text=text,
            ordinal=int(meta.get("ordinal", 0)),
            covers=tuple(h for h in str(meta.get("covers", "")).split("\x1f") if h),
        )


@dataclass
class Citation:
    n: int
    title: str
    breadcrumb: str
    heading: str
    url: str  # page URL + #anchor: opens the cited section (root-relative: no published URL, show the path)
    fragment_url: str  # url + text fragment that highlights the quoted sentence where supported
    snippet: str
    score: float
    source: str
    path: str


@dataclass
class Answer:
    text: str
    answered: bool  # False when the assistant abstained
    citations: list[Citation]
    language: str = "da"
    notice: str = ""  # e.g. why the LLM answer fell back to the extractive one
    reason: str = ""  # why the assistant abstained: the name of the check that declined (answer/abstain.py)
