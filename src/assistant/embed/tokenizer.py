"""One fast tokenizer per tokenizer.json in a process, shared by everything that reads that model's
word pieces: the chunker's token counter, the encoder, and the trained reader (a fine-tuned e5 with
e5's tokenizer.json). XLM-R's tokenizer holds ~280 MB once loaded; a process held up to four (the
serving process with the trained reader: 1,676 → 878 MB). A shared tokenizer is never configured: it
neither truncates nor pads, and `fitted` cuts and pads ids as the tokenizer's own settings would.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_loading = threading.Lock()
_loaded: dict[str, Any] = {}  # content digest → tokenizer (a process reads one or two models)


def shared_tokenizer(file: Path) -> Any:
    """The `tokenizers.Tokenizer` of `file`, one per content (two folders holding the same
    tokenizer.json share it); never truncating, never padding."""
    from tokenizers import Tokenizer

    data = Path(file).read_bytes()
    digest = hashlib.sha1(data).hexdigest()
    with _loading:
        tokenizer = _loaded.get(digest)
        if tokenizer is None:
            tokenizer = _loaded[digest] = Tokenizer.from_str(data.decode("utf-8"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
    return tokenizer


def surrounding(count: Callable[[str], int]) -> int:
    """The word pieces a counter adds around any text (special tokens, a prompt): 2·count("a") −
    count("a a"). Not count(""): XLM-R's tokenizer gives a prompt's trailing space a piece of its own
    when nothing follows it, which would count every text one piece short."""
    return 2 * count("a") - count("a a")


def fitted(encodings: list[Any], max_tokens: int, pad_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input ids, attention mask, token type ids) of a batch, each cut to `max_tokens` as the
    tokenizer's own truncation does (the words that do not fit go, the special tokens around them
    stay) and padded on the right to the longest."""
    rows = [_cut(e.ids, e.special_tokens_mask, max_tokens) for e in encodings]
    types = [_cut(e.type_ids, e.special_tokens_mask, max_tokens) for e in encodings]
    width = max((len(r) for r in rows), default=0)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    type_ids = np.zeros((len(rows), width), dtype=np.int64)
    for i, (row, kinds) in enumerate(zip(rows, types, strict=True)):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
        type_ids[i, : len(kinds)] = kinds
    return ids, mask, type_ids


def _cut(values: list[int], special: list[int], limit: int) -> list[int]:
    if len(values) <= limit:
        return list(values)
    lead = 0
    while lead < len(special) and special[lead]:
        lead += 1
    trail = 0
    while trail < len(special) - lead and special[len(special) - 1 - trail]:
        trail += 1
    content = values[lead: len(values) - trail][: max(0, limit - lead - trail)]
    return [*values[:lead], *content, *values[len(values) - trail:]]


class WordPieceCounter:
    """Text → the model's word pieces with its special tokens and `prompt` (a passage as embedded).
    `each` counts many texts in one parallel call; `each_alone` counts many short texts from a few
    long encodings (the texts joined by spaces, each text's pieces found by their offsets), which
    is what a text counts alone where the word pieces add up across a space (the pre-tokenizer
    splits there) and None where that does not hold for these texts."""

    def __init__(self, tokenizer: Any, prompt: str) -> None:
        self._tokenizer = tokenizer
        self._prompt = prompt
        self._bare = surrounding(self)  # the special tokens and the prompt

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(self._prompt + text).ids)

    def each(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch([self._prompt + text for text in texts])]

    def each_alone(self, texts: Sequence[str], slice_chars: int = 8000) -> list[int] | None:
        if any(not text.strip() or text != " ".join(text.split()) for text in texts):
            return None  # a blank text, or whitespace the joining would change
        slices: list[list[str]] = [[]]
        size = 0
        for text in texts:
            if size >= slice_chars:
                slices.append([])
                size = 0
            slices[-1].append(text)
            size += len(text) + 1
        encodings = self._tokenizer.encode_batch([" ".join(texts) for texts in slices], add_special_tokens=False)
        counts: list[int] = []
        for joined, encoding in zip(slices, encodings, strict=True):
            # A piece belongs to the text its first character is in (a text owns the space before it).
            ends = np.cumsum([len(text) + 1 for text in joined]) - 1
            first = np.fromiter((start for start, _ in encoding.offsets), dtype=np.int64, count=len(encoding.ids))
            owner = np.searchsorted(ends[:-1], first, side="right")
            counts.extend((np.bincount(owner, minlength=len(joined)) + self._bare).tolist())
        return counts
