"""The chunker on the largest pages a source may hold (#22 item 4): seconds per shape.

    .venv/bin/python -m bench.chunk [--mb 5.0]

Pages in five shapes (one long paragraph of all-different words, of all-different sentences,
of repeated prose; one long list; many small sections), each as large as a markdown file may be (markdown_file.MAX_FILE_BYTES),
parsed as ingest parses them and chunked with the embedding model's own token counter. Prints the
chunks, the tokenizer calls and the seconds per shape; the target is <= 5 s for 5 MB. Best of
`--rounds` (this machine's times vary by half from run to run).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence

from assistant.offline import go_offline

go_offline()

from assistant.embed import load_token_counter  # noqa: E402
from assistant.embed.tokenizer import WordPieceCounter  # noqa: E402
from assistant.models import Page  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.sites.markdown_file import MAX_FILE_BYTES  # noqa: E402
from ingest.chunk import ChunkSizes, chunk_page  # noqa: E402
from ingest.parse import parse_markdown_file  # noqa: E402

HEAD = "---\ntitle: Stor side\n---\n# Stor side\n"


def shapes(rng: random.Random) -> dict[str, Callable[[int], str]]:
    return {
        "all-different words": lambda i: f"ord{rng.randint(0, 10**12)} ",
        "all-different sentences": lambda i: f"Sætning {i} om kommunens data nummer {rng.randint(0, 10**9)}. ",
        "repeated prose": lambda i: "Borgeren kan låne en pc på biblioteket. ",
        "one long list": lambda i: f"- punkt {i} i en lang liste om {rng.randint(0, 10**6)}\n",
        "many small sections": lambda i: f"## Afsnit {i}\n\nKort tekst om emne {rng.randint(0, 10**6)}.\n\n",
    }


def page_of(make: Callable[[int], str], size: int) -> Page:
    parts, total, i = [], len(HEAD.encode()), 0
    while True:
        part = make(i)
        total += len(part.encode())
        if total > size:
            break
        parts.append(part)
        i += 1
    parsed = parse_markdown_file((HEAD + "".join(parts)).encode(), "stor.md")
    return Page("bench", "stor.md", "https://example.dk/stor.html", parsed.title, ("Stor side",), "", "h", True,
                parsed.sections)


class Counted:
    """The model's token counter, with its calls and the texts they counted (a batch counts many)."""

    def __init__(self, counter: WordPieceCounter) -> None:
        self.counter, self.calls, self.texts = counter, 0, 0

    def __call__(self, text: str) -> int:
        self.calls, self.texts = self.calls + 1, self.texts + 1
        return self.counter(text)

    def each(self, texts: Sequence[str]) -> list[int]:
        self.calls, self.texts = self.calls + 1, self.texts + len(texts)
        return self.counter.each(texts)

    def each_alone(self, texts: Sequence[str]) -> list[int] | None:
        self.calls, self.texts = self.calls + 1, self.texts + len(texts)
        return self.counter.each_alone(texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=MAX_FILE_BYTES / 1e6,
                        help="page size in MB (default and most: the largest file a source may hold)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    counter = Counted(load_token_counter(settings.embedding_model, settings.cache_dir))
    size = min(int(args.mb * 1e6), MAX_FILE_BYTES)
    print(f"| shape ({size / 1e6:.1f} MB) | chunks | tokenizer calls (texts) | seconds (best of {args.rounds}) |\n"
          "|---|---|---|---|")
    for name, make in shapes(random.Random(1)).items():
        page = page_of(make, size)
        best = float("inf")
        for _ in range(args.rounds):
            counter.calls = counter.texts = 0
            started = time.perf_counter()
            chunks = chunk_page(page, counter, ChunkSizes.of(settings))
            best = min(best, time.perf_counter() - started)
        print(f"| {name} | {len(chunks):,} | {counter.calls:,} ({counter.texts:,}) | {best:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
