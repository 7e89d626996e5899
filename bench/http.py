"""HTTP latency under load: the real app in its own process, 1, 8 and 32 concurrent clients.

    .venv/bin/python -m bench.http [--n 500] [--shared ../shared]

Ingests os2produktmodning into a temporary index, starts `app.py` on a free 127.0.0.1 port (rate
limit off), posts --n questions drawn from the dev sets (repeated as needed) to /api/ask at each
concurrency, and prints p50/p95/p99 latency, answers/s, errors and timeouts.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench import SHARED, dev_questions, served_app
from bench.query import percentile


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    questions = dev_questions(args.shared)
    with served_app(args.shared) as base:
        if base is None:
            return 1
        with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=64)) as client:
            client.post(f"{base}/api/ask", json={"question": "opvarmning"})
            print(f"{args.n} questions per run, POST /api/ask, extractive answerer, 2 cores")
            for concurrency in args.concurrency:
                latencies: list[float] = []
                errors = timeouts = 0

                def one(i: int, latencies: list[float] = latencies) -> None:
                    nonlocal errors, timeouts
                    started = time.perf_counter()
                    try:
                        reply = client.post(f"{base}/api/ask", json={"question": questions[i % len(questions)]})
                        if reply.status_code != 200:
                            errors += 1
                    except httpx.TimeoutException:
                        timeouts += 1
                    except httpx.HTTPError:
                        errors += 1
                    latencies.append((time.perf_counter() - started) * 1000)

                started = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    list(pool.map(one, range(args.n)))
                seconds = time.perf_counter() - started
                print(f"{concurrency:>3} clients: p50 {percentile(latencies, 0.5):6.1f} ms  "
                      f"p95 {percentile(latencies, 0.95):6.1f} ms  p99 {percentile(latencies, 0.99):6.1f} ms  "
                      f"{args.n / seconds:5.1f} answers/s  errors {errors}  timeouts {timeouts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
