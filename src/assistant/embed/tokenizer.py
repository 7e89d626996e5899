"""One fast tokenizer per tokenizer.json in a process, shared by everything that reads that model's
word pieces: the chunker's token counter, the encoder, and the trained reader (a fine-tuned e5 with
e5's tokenizer.json). XLM-R's tokenizer holds ~280 MB once loaded; a process held up to four (the
serving process with the trained reader: 1,676 → 878 MB). A shared tokenizer is never configured: it
neither truncates nor pads, and `fitted` cuts and pads ids as the tokenizer's own settings would.
"""

from __future__ import annotations

import hashlib
import threading
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
