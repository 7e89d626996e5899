"""Word pieces counted for the chunker in a few tokenizer calls per page, not one per unit.

`PieceCounter` remembers every count (a piece is counted again by the level above) and bounds long
texts (`over` counts a long text's head first); `first_over` finds where a greedy piece ends from the
units' own counts, which add up across a space or a line break (less `PieceCounter.join`). A counter
that counts many texts at once (embed/tokenizer.WordPieceCounter) lets a `trusting` PieceCounter
`learn` every unit of a level in one parallel call and take a piece's sum for its count; every chunk's
sum is then checked by one batched count of the chunks (`PieceCounter.confirmed`). Otherwise, and
where a sum is unknown, a piece that fits is checked by one count of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.embed.tokenizer import surrounding

TokenCounter = Callable[[str], int]  # word pieces of a text, special tokens included
LEARN_CHARS = 20_000  # a longer unit is never counted whole (`upto` counts its head)


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
    if summed is not None and counter.trusting:
        return k + 1  # the sum stands; the chunks it makes are counted at the end (PieceCounter.confirmed)
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

    def __init__(self, count_tokens: TokenCounter, trusting: bool = False) -> None:
        self._count = count_tokens
        self._memo: dict[str, int] = {}
        self.join = surrounding(self)  # what joining two texts saves (special tokens, the prompt)
        self._each: Callable[[Sequence[str]], list[int]] | None = getattr(count_tokens, "each", None)
        self._each_alone: Callable[[Sequence[str]], list[int] | None] | None = getattr(count_tokens, "each_alone", None)
        self.trusting = trusting and self._each is not None
        self.claims: list[tuple[str, int | None]] = []  # (chunk text as embedded, the sum it was made by)
        self._newline: int | None = None

    def learn(self, texts: Sequence[str]) -> None:
        """Counts the units of a level not yet known, in one call of the counter's `each_alone` (or
        `each`) where it has one: a trusting counter's sums need every unit's count."""
        if not self.trusting or self._each is None:
            return
        memo = self._memo
        todo = list(dict.fromkeys(t for t in texts if t not in memo and len(t) <= LEARN_CHARS and t.strip()))
        if not todo:
            return
        spaced = [t for t in todo if t == " ".join(t.split())]
        alone = self._each_alone(spaced) if self._each_alone is not None and spaced else None
        if alone is not None:
            self._memo.update(zip(spaced, alone, strict=True))
            todo = [t for t in todo if t not in self._memo]
        if todo:
            self._memo.update(zip(todo, self._each(todo), strict=True))

    def line(self, text: str, parts: list[str]) -> int:
        """The count of a title line ending in a line break (`text`), and its parts counted, so that a
        piece's count is a sum: a trusting counter adds what a line break at the end adds to the
        parts' sum, a plain one counts the text."""
        for part in parts:
            self(part)  # a memo hit where learnt
        summed = self.known_sum(parts) if self.trusting else None
        if summed is None:
            return self(text)
        if self._newline is None:
            self._newline = self("a\n") - self("a")
        return summed + self._newline

    def remember(self, text: str, parts: list[str]) -> None:
        """A trusting counter takes the sum of a piece's parts for the piece's count."""
        if self.trusting and text not in self._memo and (tokens := self.known_sum(parts)) is not None:
            self._memo[text] = tokens

    def claim(self, text: str, parts: list[str]) -> None:
        """A chunk (as embedded: title line and text) and the sum it was packed by, to be checked."""
        if self.trusting:
            self.claims.append((text, self.known_sum(parts)))

    def confirmed(self, max_tokens: int) -> bool:
        """Whether every claimed chunk counts what its sum said (and no more than `max_tokens`), by one
        parallel count of them all; a trusting counter's chunks stand only then."""
        if not self.claims or self._each is None:
            return True
        texts = list(dict.fromkeys(text for text, _ in self.claims))  # a page that repeats itself repeats chunks
        counted = dict(zip(texts, self._each(texts), strict=True))
        return all(counted[text] <= max_tokens and summed in (None, counted[text]) for text, summed in self.claims)

    def __call__(self, text: str) -> int:
        tokens = self._memo.get(text)
        if tokens is None:
            tokens = self._memo[text] = self._count(text)
        return tokens

    def known_sum(self, parts: list[str]) -> int | None:
        """The count of the parts joined by spaces or line breaks, from their remembered counts (as
        `added` sums them), or None when one was never counted."""
        total = join = self.join
        memo = self._memo
        for part in parts:
            if part.strip():
                tokens = memo.get(part)
                if tokens is None:
                    return None
                total += tokens - join
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
