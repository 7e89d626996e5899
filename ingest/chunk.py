"""Page → Chunks along the heading structure, each within the embedding model's input limit.

Tiny sections merge with the next (or previous) section under the same parent heading; long sections
split at paragraph, then sentence, then word boundaries. Sizes are counted in the model's own word
pieces on the exact text that is embedded (title and heading path included), so nothing is cut off.
It does not embed or store anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.models import Chunk, Heading, Page, Section, embedded_text, title_line
from assistant.settings import Settings
from assistant.text import CODE_FENCE, split_sentences

TokenCounter = Callable[[str], int]  # word pieces of a text, special tokens included
_CLAUSE_END = re.compile(r"(?<=[:;,])\s+")

@dataclass
class ChunkSizes:
    """Word-piece sizes of the chunks; they come only from Settings (recorded in the index)."""

    max_tokens: int
    target_tokens: int
    min_tokens: int

    @classmethod
    def of(cls, settings: Settings) -> ChunkSizes:
        return cls(settings.chunk_max_tokens, settings.chunk_target_tokens, settings.chunk_min_tokens)


@dataclass
class _Unit:
    """One section, or several merged ones: what becomes one or more chunks."""

    path: tuple[Heading, ...]
    blocks: list[str]
    covers: list[str] = field(default_factory=list)

    @property
    def parent(self) -> tuple[Heading, ...]:
        return self.path[:-1]


def chunk_page(page: Page, count_tokens: TokenCounter, sizes: ChunkSizes) -> list[Chunk]:
    units = _merge_tiny(_units(page.sections), page, count_tokens, sizes)
    chunks: list[Chunk] = []
    for unit in units:
        headings = tuple(h.text for h in unit.path)
        prefix = title_line(page.title, headings) + "\n"
        for text in _pack(unit.blocks, prefix, count_tokens, sizes):
            chunks.append(_make_chunk(page, unit, headings, text, len(chunks)))
    if not chunks:  # a page with no text still gets found by its title
        unit = _Unit(path=(), blocks=[page.title])
        chunks.append(_make_chunk(page, unit, (), page.title, 0))
    return chunks


def _make_chunk(page: Page, unit: _Unit, headings: tuple[str, ...], text: str, ordinal: int) -> Chunk:
    anchor = unit.path[-1].anchor if unit.path and page.rendered else ""
    return Chunk(
        source=page.source,
        path=page.path,
        title=page.title,
        breadcrumb=page.breadcrumb,
        headings=headings,
        anchor=anchor,
        url=f"{page.url}#{anchor}" if anchor else page.url,
        date=page.date,
        text=text,
        ordinal=ordinal,
        covers=tuple(unit.covers),
    )


def _units(sections: list[Section]) -> list[_Unit]:
    units = []
    for section in sections:
        if section.heading is None and not section.blocks:
            continue
        covers = [section.heading.text] if section.heading else []
        units.append(_Unit(path=section.path, blocks=list(section.blocks), covers=covers))
    return units


def _size(unit: _Unit, page: Page, count_tokens: TokenCounter) -> int:
    return count_tokens(embedded_text(page.title, [h.text for h in unit.path], "\n".join(unit.blocks)))


def _mergeable(first: _Unit, second: _Unit) -> bool:
    """Same parent heading, or the second is a child of the first."""
    return first.parent == second.parent or second.parent == first.path


def _merge_tiny(units: list[_Unit], page: Page, count_tokens: TokenCounter, sizes: ChunkSizes) -> list[_Unit]:
    merged: list[_Unit] = []
    for unit in units:
        while merged and not merged[-1].blocks and unit.parent == merged[-1].path:
            # A heading with nothing under it but sub-sections: its title is in their heading path.
            unit = _Unit(unit.path, unit.blocks, merged.pop().covers + unit.covers)
        if merged:
            last = merged[-1]
            small = _size(last, page, count_tokens) < sizes.min_tokens or not last.blocks
            if small and _mergeable(last, unit):
                joined = _Unit(last.path, last.blocks + _titled(unit), last.covers + unit.covers)
                if _size(joined, page, count_tokens) <= sizes.target_tokens:
                    merged[-1] = joined
                    continue
        merged.append(unit)
    # A tiny last section joins the one before it when they share a parent.
    if len(merged) > 1:
        last, before = merged[-1], merged[-2]
        if _size(last, page, count_tokens) < sizes.min_tokens and last.parent == before.parent:
            joined = _Unit(before.path, before.blocks + _titled(last), before.covers + last.covers)
            if _size(joined, page, count_tokens) <= sizes.target_tokens:
                merged[-2:] = [joined]
    return [u for u in merged if u.blocks or u.path]


def _titled(unit: _Unit) -> list[str]:
    """A merged section keeps its heading as a line of text, so the reader sees the structure."""
    return ([unit.path[-1].text] if unit.path else []) + unit.blocks


def _pack(blocks: list[str], prefix: str, count_tokens: TokenCounter, sizes: ChunkSizes) -> list[str]:
    """Greedy packing of blocks into texts of at most target (never more than max) word pieces."""
    budget = sizes.max_tokens - count_tokens(prefix)
    target = max(sizes.target_tokens - count_tokens(prefix), budget // 2)
    if budget < 16:
        raise ValueError(f"the title and heading path alone use {count_tokens(prefix)} tokens: {prefix!r}")
    pieces: list[str] = []
    for block in blocks or [prefix.rsplit(" › ", 1)[-1].strip()]:
        pieces.extend(_split_to_fit(block, budget, count_tokens))
    texts: list[str] = []
    current: list[str] = []
    for piece in pieces:
        # Counted once per candidate: tokenizing is most of the chunking time.
        tokens = count_tokens(prefix + "\n".join([*current, piece])) if current else 0
        if current and (tokens > sizes.max_tokens or tokens > sizes.target_tokens + (sizes.max_tokens - target) // 4):
            # A line that announces what follows ("... på 3 forskellige måder:") goes with it.
            if len(current) > 1 and current[-1].rstrip("*_ ").endswith(":") and \
                    count_tokens(prefix + "\n".join([current[-1], piece])) <= sizes.max_tokens:
                texts.append("\n".join(current[:-1]))
                current = [current[-1], piece]
                continue
            texts.append("\n".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current:
        texts.append("\n".join(current))
    return texts


def _split_to_fit(block: str, budget: int, count_tokens: TokenCounter) -> list[str]:
    """A block that is too long splits at sentence boundaries (text.split_sentences, as answers read
    them), a sentence too long at its clauses (after ":", ";", ","), a clause at words; a code block
    at line boundaries, each piece a code block of its own."""
    if count_tokens(block) <= budget:
        return [block]
    if block.startswith(CODE_FENCE + "\n") and block.endswith("\n" + CODE_FENCE):
        return _split_code(block.split("\n")[1:-1], budget, count_tokens)
    words = lambda clause: _split_words(clause, budget, count_tokens)  # noqa: E731
    clauses = lambda sentence: _packed(_CLAUSE_END.split(sentence), budget, count_tokens, words)  # noqa: E731
    return _packed([s for line in block.split("\n") for s in split_sentences(line)], budget, count_tokens, clauses)


def _packed(units: list[str], budget: int, count_tokens: TokenCounter,
            too_long: Callable[[str], list[str]]) -> list[str]:
    """Units joined greedily into pieces of at most `budget` tokens; a unit over it is split by `too_long`."""
    out: list[str] = []
    current = ""
    for unit in units:
        if count_tokens(unit) > budget:
            if current:
                out.append(current)
                current = ""
            out.extend(too_long(unit))
            continue
        candidate = f"{current} {unit}".strip()
        if count_tokens(candidate) > budget:
            out.append(current)
            current = unit
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _split_code(lines: list[str], budget: int, count_tokens: TokenCounter) -> list[str]:
    fenced = lambda body: f"{CODE_FENCE}\n" + "\n".join(body) + f"\n{CODE_FENCE}"  # noqa: E731
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        for piece in _split_words(line, budget - count_tokens(fenced([])), count_tokens) if line.strip() else [line]:
            if current and count_tokens(fenced([*current, piece])) > budget:
                out.append(fenced(current))
                current = []
            current.append(piece)
    if current:
        out.append(fenced(current))
    return out


def _split_words(sentence: str, budget: int, count_tokens: TokenCounter) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for word in sentence.split():
        if current and count_tokens(" ".join([*current, word])) > budget:
            out.append(" ".join(current))
            current = []
        current.append(word[:200])  # one absurd "word" (a URL, base64) cannot exceed the budget
    if current:
        out.append(" ".join(current))
    return out
