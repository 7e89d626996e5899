"""Ingest benchmark on os2produktmodning: full ingest, no-change re-ingest, and the 02-15 → 07-14 update.

    .venv/bin/python -m bench.ingest [--shared ../shared]

Prints seconds, pages/s, chunks/s and embeddings computed for each step. Uses a fresh temporary
index (and so a cold embedding cache) every run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from assistant.offline import go_offline
from bench import SHARED, ingest_line

go_offline()

from assistant.settings import Settings  # noqa: E402
from assistant.sites.sources import SourceSpec  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402


def step(label: str, settings: Settings, folder: Path) -> float:
    started = time.perf_counter()
    report = ingest(settings, [SourceSpec(name="os2produktmodning", path=folder)], progress=False)
    seconds = time.perf_counter() - started
    print(ingest_line(label, report, seconds))
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    current = args.shared / "corpus" / "os2produktmodning"
    old = args.shared / "corpus" / "os2produktmodning-2026-02-15"
    from assistant.embed.embedder import get_embedder

    settings = Settings()
    # model load (and a first ONNX export) is not ingest time
    get_embedder(settings.embedding_model, settings.embedding_batch_size, settings.embedding_backend,
                 settings.cache_dir, settings.model_cache_dir).embed_passages(["opvarmning"])
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "a", cache_dir=Path(tmp) / "cache")
        full = step("full ingest (2026-07-14)", settings, current)
        again = step("re-ingest, no change", settings, current)
        print(f"  no-change re-ingest is {100 * again / full:.2f}% of the full ingest (target < 2%, < 1 s)")
        settings = Settings(index_dir=Path(tmp) / "b", cache_dir=Path(tmp) / "cache")
        step("full ingest (2026-02-15)", settings, old)
        step("update 02-15 → 07-14", settings, current)
    return 0


if __name__ == "__main__":
    sys.exit(main())
