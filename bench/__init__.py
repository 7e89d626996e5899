"""Benchmarks: each prints its figures (`python -m bench.NAME`); results go in BENCHMARKS.md."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"  # the read-only corpora and dev sets
