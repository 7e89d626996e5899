"""HTTP latency under load: the real app in its own process, 1, 8 and 32 concurrent clients.

    .venv/bin/python -m bench.http [--n 500] [--shared ../shared]

Ingests os2produktmodning into a temporary index, starts `app.py` on a free 127.0.0.1 port (rate
limit off), posts --n questions drawn from the dev sets (repeated as needed) to /api/ask at each
concurrency, and prints p50/p95/p99 latency, answers/s, errors and timeouts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench import SHARED
from bench.query import percentile

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for f in sorted((args.shared / "eval").glob("dev-*.jsonl"))
                 for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.toml"
        site = args.shared / "corpus" / "os2produktmodning"
        sources.write_text(f'[[source]]\nname = "os2produktmodning"\npath = "{site}"\n')
        port = free_port()
        env = {**os.environ, "ASSISTANT_INDEX_DIR": f"{tmp}/index", "ASSISTANT_SOURCES_FILE": str(sources),
               "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "ASSISTANT_PORT": str(port)}
        app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 600
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline or app.poll() is not None:
                    print("the app did not become ready", file=sys.stderr)
                    return 1
                time.sleep(0.5)
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
        finally:
            app.terminate()
            app.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
