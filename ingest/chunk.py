"""Page → Chunks along the heading structure, each within the embedding model's input limit.

Tiny sections merge with the next (or previous) section under the same parent heading; long sections
split at paragraph, then sentence, then word boundaries. Sizes are counted in the model's own word
pieces on the exact text that is embedded (title and heading path included), so nothing is cut off.
Packing is greedy (each piece takes every next unit that still fits). With the model's counter, a
page's units are counted in a few parallel calls and a piece's count is the sum of its units', checked
for every chunk by one more call (and the page chunked again counting each piece where a sum was
wrong); with a plain counter, in a few counts per piece. Either way a 5 MB page chunks in seconds. A
page that takes longer than CHUNK_BUDGET_SECONDS (the per-page budget, as parsing has), or holds more
than LARGE_PAGE_CHARS of text, is chunked all the same, with a warning naming it. It does not embed or
store anything.
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
    tokens: int | None = None  # with a trusting counter: the sum of its title line's and blocks' counts

    @property
    def parent(self) -> tuple[Heading, ...]:
        return self.path[:-1]


def chunk_page(page: Page, count_tokens: TokenCounter, sizes: ChunkSizes,
               warn: Callable[[str], None] | None = None,
               clock: Callable[[], float] = time.perf_counter) -> list[Chunk]:
    """The page's chunks; `warn` hears (naming the page) when it was large or slow to chunk."""
    started = clock()
    counter = PieceCounter(count_tokens, trusting=True)
    chunks = _chunks(page, counter, sizes)
    if not counter.confirmed(sizes.max_tokens):  # a sum was wrong: every piece counted on its own
        chunks = _chunks(page, PieceCounter(count_tokens), sizes)
    seconds = clock() - started
    chars = sum(len(block) for section in page.sections for block in section.blocks)
    if warn is not None and (seconds > CHUNK_BUDGET_SECONDS or chars > LARGE_PAGE_CHARS):
        warn(f"{page.source}: {page.path}: {chars / 1e6:.1f} MB of text in {len(chunks)} chunks, chunking took "
             f"{seconds:.1f} s (budget {CHUNK_BUDGET_SECONDS:g} s); ingested, but check the page for a pasted dump")
    return chunks


def _chunks(page: Page, counter: PieceCounter, sizes: ChunkSizes) -> list[Chunk]:
    units = _units(page.sections)
    counter.learn([page.title, "›", *(h.text for unit in units for h in unit.path),
                   *(block for unit in units for block in unit.blocks)])  # what merging sums
    units = _merge_tiny(units, page, counter, sizes)
    chunks: list[Chunk] = []
    for unit in units:
        headings = tuple(h.text for h in unit.path)
        prefix = title_line(page.title, headings) + "\n"
        for text in _pack(unit.blocks, prefix, _line_parts(page.title, list(headings)), counter, sizes):
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
    headings = [h.text for h in unit.path]
    if counter.trusting and unit.tokens is None:
        unit.tokens = counter.known_sum([*_line_parts(page.title, headings), *unit.blocks])
    if unit.tokens is not None:
        return unit.tokens > limit
    return counter.over(embedded_text(page.title, headings, "\n".join(unit.blocks)), limit)


def _merged(first: _Unit, second: _Unit, counter: PieceCounter) -> _Unit:
    """`second` merged into `first`: its heading as a line of text and its blocks (with a trusting
    counter, the sum of the two)."""
    blocks = _titled(second)
    added = counter.known_sum(blocks) if first.tokens is not None else None
    return _Unit(first.path, first.blocks + blocks, first.covers + second.covers,
                 None if added is None or first.tokens is None else first.tokens + added - counter.join)


def _line_parts(title: str, headings: list[str]) -> list[str]:
    """The title line (models.title_line) as parts joined by spaces: its count is their sum."""
    return [title, *(part for heading in headings for part in ("›", heading))]


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
                joined = _merged(last, unit, counter)
                if not _over(joined, page, counter, sizes.target_tokens):
                    merged[-1] = joined
                    continue
        merged.append(unit)
    # A tiny last section joins the one before it when they share a parent.
    if len(merged) > 1:
        last, before = merged[-1], merged[-2]
        if not _over(last, page, counter, sizes.min_tokens - 1) and last.parent == before.parent:
            joined = _merged(before, last, counter)
            if not _over(joined, page, counter, sizes.target_tokens):
                merged[-2:] = [joined]
    return [u for u in merged if u.blocks or u.path]


def _titled(unit: _Unit) -> list[str]:
    """A merged section keeps its heading as a line of text, so the reader sees the structure."""
    return ([unit.path[-1].text] if unit.path else []) + unit.blocks


def _pack(blocks: list[str], prefix: str, line: list[str], counter: PieceCounter, sizes: ChunkSizes) -> list[str]:
    """Greedy packing of blocks into texts of at most target (never more than max) word pieces."""
    head = counter.line(prefix, line)
    budget = sizes.max_tokens - head
    target = max(sizes.target_tokens - head, budget // 2)
    if budget < 16:
        raise ValueError(f"the title and heading path alone use {head} tokens: {prefix!r}")
    pieces: list[str] = []
    blocks = blocks or [prefix.rsplit(" › ", 1)[-1].strip()]
    for block in blocks:  # counted when the page's units were learnt (_chunks)
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
            pieces.__getitem__, i + span, lambda k: [*line, *base, *pieces[i:k + 1]])  # noqa: B023
        span = j - i
        current.extend(pieces[i:j])
        if j == len(pieces):
            break
        piece, i = pieces[j], j + 1
        # A line that announces what follows ("... på 3 forskellige måder:") goes with it.
        if len(current) > 1 and current[-1].rstrip("*_ ").endswith(":") and \
                not counter.over(prefix + "\n".join([current[-1], piece]), sizes.max_tokens):
            texts.append(_claimed(prefix, line, current[:-1], counter))
            current = [current[-1], piece]
            continue
        texts.append(_claimed(prefix, line, current, counter))
        current = [piece]
    if current:
        texts.append(_claimed(prefix, line, current, counter))
    return texts


def _claimed(prefix: str, line: list[str], pieces: list[str], counter: PieceCounter) -> str:
    text = "\n".join(pieces)
    counter.claim(prefix + text, [*line, *pieces])
    return text


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
    counter.learn(units)
    out: list[str] = []
    current = ""
    parts: list[str] = []
    i = span = 0
    while i < len(units):
        base, base_parts = current, parts
        j = first_over(i, len(units), budget, counter, lambda k: _joined(base, units[i:k + 1]),  # noqa: B023
                        units.__getitem__, i + span, lambda k: [*base_parts, *units[i:k + 1]])  # noqa: B023
        span = j - i
        current, parts = _joined(current, units[i:j]), [*parts, *units[i:j]]
        if j == len(units):
            break
        unit, i = units[j], j + 1
        if counter.over(unit, budget):
            if current:
                out.append(_remembered(current, parts, counter))
                current, parts = "", []
            out.extend(too_long(unit))
        else:
            out.append(_remembered(current, parts, counter))
            current, parts = unit, [unit]
    if current:
        out.append(_remembered(current, parts, counter))
    return out


def _remembered(piece: str, parts: list[str], counter: PieceCounter) -> str:
    counter.remember(piece, parts)
    return piece


def _joined(current: str, units: list[str]) -> str:
    """`current` with `units` appended one at a time as `f"{current} {unit}".strip()`."""
    for unit in units:
        current = f"{current} {unit}".strip()
    return current


def _split_code(lines: list[str], budget: int, counter: PieceCounter) -> list[str]:
    fenced = lambda body: f"{CODE_FENCE}\n" + "\n".join(body) + f"\n{CODE_FENCE}"  # noqa: E731
    line_budget = budget - counter(fenced([]))
    lines = [" ".join(word[:200] for word in line.split()) if line.strip() else line for line in lines]  # as words
    counter.learn([CODE_FENCE, *lines])
    pieces = [p for line in lines for p in (
        _split_words(line, line_budget, counter) if line.strip() and counter.over(line, line_budget) else [line])]
    out: list[str] = []
    i = span = 0
    while i < len(pieces):
        j = first_over(i + 1, len(pieces), budget, counter, lambda k: fenced(pieces[i:k + 1]),  # noqa: B023
                        pieces.__getitem__, i + span, lambda k: [CODE_FENCE, *pieces[i:k + 1], CODE_FENCE])  # noqa: B023
        out.append(_remembered(fenced(pieces[i:j]), [CODE_FENCE, *pieces[i:j], CODE_FENCE], counter))
        i, span = j, j - i
    return out


def _split_words(sentence: str, budget: int, counter: PieceCounter) -> list[str]:
    """Words joined greedily into pieces of at most `budget` tokens. One absurd "word" (a URL, base64)
    is cut to 200 characters, so that it cannot exceed the budget on its own; it is counted as cut."""
    words = [w[:200] for w in sentence.split()]
    counter.learn(words)
    out: list[str] = []
    i = span = 0
    while i < len(words):
        start = i
        i = first_over(i + 1, len(words), budget, counter, lambda k: " ".join(words[start:k + 1]),  # noqa: B023
                        words.__getitem__, i + span, lambda k: words[start:k + 1])  # noqa: B023
        out.append(_remembered(" ".join(words[start:i]), words[start:i], counter))
        span = i - start
    return out
