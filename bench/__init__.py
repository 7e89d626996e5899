"""Benchmarks: each prints its figures (`python -m bench.NAME`); results go in BENCHMARKS.md."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.report import IngestReport

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # the read-only corpora and dev sets


def dev_questions(shared: Path) -> list[str]:
    """The questions of the dev sets, in file order."""
    return [json.loads(line)["question"] for f in sorted((shared / "eval").glob("dev-*.jsonl"))
            for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


@contextmanager
def served_app(shared: Path, extra_env: dict[str, str] | None = None) -> Iterator[str | None]:
    """The app serving os2produktmodning from a temporary index on a free port, without a rate limit:
    yields its base URL once /readyz answers 200, or None when it did not start (within 10 minutes)."""
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.toml"
        sources.write_text(f'[[source]]\nname = "os2produktmodning"\npath = "{shared / "corpus" / "os2produktmodning"}"\n')
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "ASSISTANT_INDEX_DIR": f"{tmp}/index", "ASSISTANT_SOURCES_FILE": str(sources),
               "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "ASSISTANT_PORT": str(port), **(extra_env or {})}
        app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 600
            while time.time() < deadline and app.poll() is None:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            else:
                print("the app did not become ready", file=sys.stderr)
                yield None
                return
            yield base
        finally:
            app.terminate()
            app.wait(30)


def ingest_line(label: str, report: IngestReport, seconds: float | None = None) -> str:
    """One ingest step's figures: seconds, pages/s, chunks/s, chunks written and embedded, page changes."""
    seconds = seconds or report.seconds
    s = report.sources[0]
    pages = len(s.added) + len(s.changed) + len(s.removed) + len(s.unchanged)
    return (f"{label:<28} {seconds:8.2f} s  {pages / seconds:7.1f} pages/s  "
            f"{report.chunks_written / seconds:6.1f} chunks/s  chunks written {report.chunks_written:5d}  "
            f"embeddings computed {report.chunks_embedded:5d}  (+{len(s.added)} ~{len(s.changed)} "
            f"-{len(s.removed)} ={len(s.unchanged)})")
