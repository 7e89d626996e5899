"""Benchmarks: each prints its figures (`python -m bench.NAME`); results go in BENCHMARKS.md."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"  # the read-only corpora and dev sets


def ingest_line(label: str, report, seconds: float | None = None) -> str:  # type: ignore[no-untyped-def]
    """One ingest step's figures: seconds, pages/s, chunks/s, chunks written and embedded, page changes."""
    seconds = seconds or report.seconds
    s = report.sources[0]
    pages = len(s.added) + len(s.changed) + len(s.removed) + len(s.unchanged)
    return (f"{label:<28} {seconds:8.2f} s  {pages / seconds:7.1f} pages/s  "
            f"{report.chunks_written / seconds:6.1f} chunks/s  chunks written {report.chunks_written:5d}  "
            f"embeddings computed {report.chunks_embedded:5d}  (+{len(s.added)} ~{len(s.changed)} "
            f"-{len(s.removed)} ={len(s.unchanged)})")
