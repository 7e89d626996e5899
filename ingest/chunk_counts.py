"""Word pieces counted for the chunker in a few tokenizer calls per piece, not one per unit.

`PieceCounter` remembers every count (a piece is counted again by the level above) and bounds long
texts (`over` counts a long text's head first); `first_over` finds where a greedy piece ends from the
units' own counts, which add up across a space or a line break (less `PieceCounter.join`), checked by
one count of the piece that fits.
"""

from __future__ import annotations

from collections.abc import Callable

TokenCounter = Callable[[str], int]  # word pieces of a text, special tokens included


def first_over(lo: int, hi: int, limit: int, counter: PieceCounter, text_of: Callable[[int], str],
                unit_of: Callable[[int], str], guess: int,
                parts_of: Callable[[int], list[str]] | None = None) -> int:
    """The first k in [lo, hi) whose text (`text_of(k)`: the piece with units up to k) counts over
    `limit`, or hi. The count of the piece near `guess` (where the last piece ended): the sum of its
    parts' counts (`parts_of(k)`, joined by a space or a line break) where each is known, else one
    count; then a unit at a time by the units' own counts (the model's word pieces add up across a
    space or a line break, less `counter.join`), and one count to check the piece that fits: a few
    counts per piece, where one count per unit made a long paragraph quadratic. If the sums were
    ever wrong for a text, the check sees it and the piece is found by halving, counting each time."""
    if lo >= hi:
        return hi
    start = k = min(max(guess, lo), hi - 1)
    summed = counter.known_sum(parts_of(k)) if parts_of is not None else None
    tokens = summed if summed is not None else counter.upto(text_of(k), limit)
    if tokens > limit:
        while k >= lo and tokens > limit:
            tokens -= counter.added(unit_of(k), limit)
            k -= 1
        if k < lo:
            return lo
    else:
        while k + 1 < hi and tokens + counter.added(unit_of(k + 1), limit) <= limit:
            tokens += counter.added(unit_of(k + 1), limit)
            k += 1
    if (k == start and summed is None) or not counter.over(text_of(k), limit):
        return k + 1
    return _halving(start, k + 1, limit, counter, text_of) if k > start else _halving(lo, start, limit, counter, text_of)


def _halving(lo: int, hi: int, limit: int, counter: PieceCounter, text_of: Callable[[int], str]) -> int:
    """The first k in [lo, hi) over `limit` by halving, counting each probe (the text's count is monotone)."""
    good, bad = lo - 1, hi
    while bad - good > 1:
        mid = (good + bad) // 2
        if counter.over(text_of(mid), limit):
            bad = mid
        else:
            good = mid
    return bad


class PieceCounter:
    """The token counter with a memory (a piece is counted again by the level above) and a bound:
    `over(text, limit)` counts a long text's head first, which exceeds any budget long before a
    5 MB paragraph ends."""

    def __init__(self, count_tokens: TokenCounter) -> None:
        self._count = count_tokens
        self._memo: dict[str, int] = {}
        self.join = 2 * self("a") - self("a a")  # what joining two texts saves (special tokens, the prompt)

    def __call__(self, text: str) -> int:
        tokens = self._memo.get(text)
        if tokens is None:
            tokens = self._memo[text] = self._count(text)
        return tokens

    def known_sum(self, parts: list[str]) -> int | None:
        """The count of the parts joined by spaces or line breaks, from their remembered counts (as
        `added` sums them), or None when one was never counted."""
        total = self.join
        for part in parts:
            if part.strip():
                tokens = self._memo.get(part)
                if tokens is None:
                    return None
                total += tokens - self.join
        return total

    def known_over(self, parts: list[str], limit: int) -> bool:
        """Whether a part already counted is over `limit` alone (so is any text holding it), without counting."""
        return any(self._memo.get(part, 0) > limit for part in parts)

    def added(self, unit: str, limit: int) -> int:
        """What a unit adds to a piece it joins (a blank line adds nothing); past `limit`, perhaps only
        what its head adds (enough to know that the piece is over: a 5 MB unit is not counted whole)."""
        return self.upto(unit, limit) - self.join if unit.strip() else 0

    def over(self, text: str, limit: int) -> bool:
        return self.upto(text, limit) > limit

    def upto(self, text: str, limit: int) -> int:
        """The text's count, or, past `limit`, perhaps only its head's (a prefix at a word boundary
        counts no more than the whole)."""
        head = 16 * (limit + 1)
        if len(text) > 2 * head:
            cut = text.find(" ", head)
            if 0 < cut < 2 * head and (tokens := self(text[:cut])) > limit:
                return tokens
        return self(text)
