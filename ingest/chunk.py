"""Page → Chunks along the heading structure, each within the embedding model's input limit.

Tiny sections merge with the next (or previous) section under the same parent heading; long sections
split at paragraph, then sentence, then word boundaries. Sizes are counted in the model's own word
pieces on the exact text that is embedded (title and heading path included), so nothing is cut off.
Packing is greedy (each piece takes every next unit that still fits) and found in a few counts per
piece, not one per unit: a 5 MB paragraph chunks in seconds. A page that takes longer than
CHUNK_BUDGET_SECONDS (the per-page budget, as parsing has), or holds more than LARGE_PAGE_CHARS of text,
is chunked all the same, with a warning naming it. It does not embed or store anything.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.models import Chunk, Heading, Page, Section, embedded_text, title_line
from assistant.settings import Settings
from assistant.text import CODE_FENCE, split_sentences
from ingest.chunk_counts import PieceCounter, TokenCounter, first_over

_CLAUSE_END = re.compile(r"(?<=[:;,])\s+")
CHUNK_BUDGET_SECONDS = 2.0  # as ingest.site's parse budget: a docs page chunks in milliseconds
LARGE_PAGE_CHARS = 1_000_000  # docs pages hold kilobytes; a megabyte of text is a generated or pasted dump

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


def chunk_page(page: Page, count_tokens: TokenCounter, sizes: ChunkSizes,
               warn: Callable[[str], None] | None = None,
               clock: Callable[[], float] = time.perf_counter) -> list[Chunk]:
    """The page's chunks; `warn` hears (naming the page) when it was large or slow to chunk."""
    started = clock()
    chunks = _chunks(page, PieceCounter(count_tokens), sizes)
    seconds = clock() - started
    chars = sum(len(block) for section in page.sections for block in section.blocks)
    if warn is not None and (seconds > CHUNK_BUDGET_SECONDS or chars > LARGE_PAGE_CHARS):
        warn(f"{page.source}: {page.path}: {chars / 1e6:.1f} MB of text in {len(chunks)} chunks, chunking took "
             f"{seconds:.1f} s (budget {CHUNK_BUDGET_SECONDS:g} s); ingested, but check the page for a pasted dump")
    return chunks


def _chunks(page: Page, counter: PieceCounter, sizes: ChunkSizes) -> list[Chunk]:
    units = _merge_tiny(_units(page.sections), page, counter, sizes)
    chunks: list[Chunk] = []
    for unit in units:
        headings = tuple(h.text for h in unit.path)
        prefix = title_line(page.title, headings) + "\n"
        for text in _pack(unit.blocks, prefix, counter, sizes):
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


def _over(unit: _Unit, page: Page, counter: PieceCounter, limit: int) -> bool:
    return counter.over(embedded_text(page.title, [h.text for h in unit.path], "\n".join(unit.blocks)), limit)


def _mergeable(first: _Unit, second: _Unit) -> bool:
    """Same parent heading, or the second is a child of the first."""
    return first.parent == second.parent or second.parent == first.path


def _merge_tiny(units: list[_Unit], page: Page, counter: PieceCounter, sizes: ChunkSizes) -> list[_Unit]:
    merged: list[_Unit] = []
    for unit in units:
        while merged and not merged[-1].blocks and unit.parent == merged[-1].path:
            # A heading with nothing under it but sub-sections: its title is in their heading path.
            unit = _Unit(unit.path, unit.blocks, merged.pop().covers + unit.covers)
        if merged:
            last = merged[-1]
            small = not _over(last, page, counter, sizes.min_tokens - 1) or not last.blocks
            if small and _mergeable(last, unit):
                joined = _Unit(last.path, last.blocks + _titled(unit), last.covers + unit.covers)
                if not _over(joined, page, counter, sizes.target_tokens):
                    merged[-1] = joined
                    continue
        merged.append(unit)
    # A tiny last section joins the one before it when they share a parent.
    if len(merged) > 1:
        last, before = merged[-1], merged[-2]
        if not _over(last, page, counter, sizes.min_tokens - 1) and last.parent == before.parent:
            joined = _Unit(before.path, before.blocks + _titled(last), before.covers + last.covers)
            if not _over(joined, page, counter, sizes.target_tokens):
                merged[-2:] = [joined]
    return [u for u in merged if u.blocks or u.path]


def _titled(unit: _Unit) -> list[str]:
    """A merged section keeps its heading as a line of text, so the reader sees the structure."""
    return ([unit.path[-1].text] if unit.path else []) + unit.blocks


def _pack(blocks: list[str], prefix: str, counter: PieceCounter, sizes: ChunkSizes) -> list[str]:
    """Greedy packing of blocks into texts of at most target (never more than max) word pieces."""
    budget = sizes.max_tokens - counter(prefix)
    target = max(sizes.target_tokens - counter(prefix), budget // 2)
    if budget < 16:
        raise ValueError(f"the title and heading path alone use {counter(prefix)} tokens: {prefix!r}")
    pieces: list[str] = []
    blocks = blocks or [prefix.rsplit(" › ", 1)[-1].strip()]
    counter(prefix[:-1])  # the title line: with each block's count (_split_to_fit), a piece's count is a sum
    for block in blocks:
        pieces.extend(_split_to_fit(block, budget, counter))
    limit = min(sizes.max_tokens, sizes.target_tokens + (sizes.max_tokens - target) // 4)
    texts: list[str] = []
    current: list[str] = []
    i = span = 0
    while i < len(pieces):
        if not current:
            current, i = [pieces[i]], i + 1
            continue
        # The pieces that still fit after `current`, found in a few counts (not one per piece); the
        # lambdas here and below are called before their loop moves on.
        base = list(current)
        j = i if counter.known_over([*base, pieces[i]], limit) else first_over(
            i, len(pieces), limit, counter, lambda k: prefix + "\n".join([*base, *pieces[i:k + 1]]),  # noqa: B023
            pieces.__getitem__, i + span, lambda k: [prefix[:-1], *base, *pieces[i:k + 1]])  # noqa: B023
        span = j - i
        current.extend(pieces[i:j])
        if j == len(pieces):
            break
        piece, i = pieces[j], j + 1
        # A line that announces what follows ("... på 3 forskellige måder:") goes with it.
        if len(current) > 1 and current[-1].rstrip("*_ ").endswith(":") and \
                not counter.over(prefix + "\n".join([current[-1], piece]), sizes.max_tokens):
            texts.append("\n".join(current[:-1]))
            current = [current[-1], piece]
            continue
        texts.append("\n".join(current))
        current = [piece]
    if current:
        texts.append("\n".join(current))
    return texts


def _split_to_fit(block: str, budget: int, counter: PieceCounter) -> list[str]:
    """A block that is too long splits at sentence boundaries (text.split_sentences, as answers read
    them), a sentence too long at its clauses (after ":", ";", ","), a clause at words; a code block
    at line boundaries, each piece a code block of its own."""
    if not counter.over(block, budget):
        return [block]
    if block.startswith(CODE_FENCE + "\n") and block.endswith("\n" + CODE_FENCE):
        return _split_code(block.split("\n")[1:-1], budget, counter)
    words = lambda clause: _split_words(clause, budget, counter)  # noqa: E731
    clauses = lambda sentence: _packed(_CLAUSE_END.split(sentence), budget, counter, words)  # noqa: E731
    return _packed([s for line in block.split("\n") for s in split_sentences(line)], budget, counter, clauses)


def _packed(units: list[str], budget: int, counter: PieceCounter, too_long: Callable[[str], list[str]]) -> list[str]:
    """Units joined greedily (with a space) into pieces of at most `budget` tokens; a unit over it is
    split by `too_long`."""
    out: list[str] = []
    current = ""
    i = span = 0
    while i < len(units):
        base = current
        j = first_over(i, len(units), budget, counter, lambda k: _joined(base, units[i:k + 1]),  # noqa: B023
                        units.__getitem__, i + span)
        span = j - i
        current = _joined(current, units[i:j])
        if j == len(units):
            break
        unit, i = units[j], j + 1
        if counter.over(unit, budget):
            if current:
                out.append(current)
                current = ""
            out.extend(too_long(unit))
        else:
            out.append(current)
            current = unit
    if current:
        out.append(current)
    return out


def _joined(current: str, units: list[str]) -> str:
    """`current` with `units` appended one at a time as `f"{current} {unit}".strip()`."""
    for unit in units:
        current = f"{current} {unit}".strip()
    return current


def _split_code(lines: list[str], budget: int, counter: PieceCounter) -> list[str]:
    fenced = lambda body: f"{CODE_FENCE}\n" + "\n".join(body) + f"\n{CODE_FENCE}"  # noqa: E731
    line_budget = budget - counter(fenced([]))
    pieces = [p for line in lines for p in (_split_words(line, line_budget, counter) if line.strip() else [line])]
    out: list[str] = []
    i = span = 0
    while i < len(pieces):
        j = first_over(i + 1, len(pieces), budget, counter, lambda k: fenced(pieces[i:k + 1]),  # noqa: B023
                        pieces.__getitem__, i + span)
        out.append(fenced(pieces[i:j]))
        i, span = j, j - i
    return out


def _split_words(sentence: str, budget: int, counter: PieceCounter) -> list[str]:
    """Words joined greedily into pieces of at most `budget` tokens. One absurd "word" (a URL, base64)
    is cut to 200 characters, so that it cannot exceed the budget on its own; it is counted as cut."""
    words = [w[:200] for w in sentence.split()]
    out: list[str] = []
    i = span = 0
    while i < len(words):
        start = i
        i = first_over(i + 1, len(words), budget, counter, lambda k: " ".join(words[start:k + 1]),  # noqa: B023
                        words.__getitem__, i + span)
        out.append(" ".join(words[start:i]))
        span = i - start
    return out
