"""MCP tool latency beside the REST API's: search_docs vs POST /api/search, ask vs POST /api/ask.

    .venv/bin/python -m bench.mcp [--n 100] [--shared ../shared]

Ingests os2produktmodning into a temporary index, starts `app.py` on a free 127.0.0.1 port (rate
limit off), asks every dev-set question once (the retriever then keeps their query vectors, so no
kind of call is measured with a colder cache than another), then makes --n rounds of the four calls
in turn with the same question: the REST calls with one keep-alive httpx client, the MCP calls in
one session of the SDK's Streamable HTTP client. Prints p50/p95/p99 per kind.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from bench import SHARED, dev_questions, served_app
from bench.query import percentile

LABELS = ("POST /api/search", "MCP search_docs", "POST /api/ask", "MCP ask")


def line(label: str, latencies: list[float]) -> str:
    return (f"{label:<26} p50 {percentile(latencies, 0.5):7.1f} ms  p95 {percentile(latencies, 0.95):7.1f} ms  "
            f"p99 {percentile(latencies, 0.99):7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    questions = dev_questions(args.shared)
    with served_app(args.shared) as base:
        if base is None:
            return 1
        results: dict[str, list[float]] = {label: [] for label in LABELS}

        async def measure() -> None:
            async with httpx.AsyncClient(timeout=60) as rest, Client(streamable_http_client(f"{base}/mcp")) as mcp:
                async def post(path: str, body: dict) -> None:
                    (await rest.post(f"{base}{path}", json=body)).raise_for_status()

                async def call(tool: str, arguments: dict) -> None:
                    result = await mcp.call_tool(tool, arguments)
                    if result.is_error:
                        raise RuntimeError(f"{tool}: {result.content}")

                for question in questions:  # warm: every question's vector is cached from here on
                    await post("/api/search", {"query": question, "k": 5})
                kinds: dict[str, Callable[[str], Awaitable[None]]] = {
                    "POST /api/search": lambda q: post("/api/search", {"query": q, "k": 5}),
                    "MCP search_docs": lambda q: call("search_docs", {"query": q, "k": 5}),
                    "POST /api/ask": lambda q: post("/api/ask", {"question": q}),
                    "MCP ask": lambda q: call("ask", {"question": q})}
                for i in range(args.n):
                    for label, one in kinds.items():
                        started = time.perf_counter()
                        await one(questions[i % len(questions)])
                        results[label].append((time.perf_counter() - started) * 1000)

        anyio.run(measure)
        print(f"{args.n} calls of each kind, one at a time, query vectors cached, os2produktmodning, "
              "extractive answerer, 2 cores")
        for label in LABELS:
            print(line(label, results[label]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
