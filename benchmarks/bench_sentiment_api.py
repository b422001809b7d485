"""Latency of the sentiment endpoints on a live server: the market index and a symbol's view,
cold (the first call reads a month of the information world) and with a warm cache.

Starts ``quantumtrade serve`` (embedded default, feed and watches off) on a free port, calls
each path once cold, then ``--requests`` warm calls from ``--clients`` concurrent clients per
path, and prints p50/p90/p99 beside a CPU reference figure.

    .venv/bin/python benchmarks/bench_sentiment_api.py [--requests 1000] [--clients 10]
"""

from __future__ import annotations

import argparse
import time

import httpx
from bench_regime_api import machine, serve, wait_ready, warm

PATHS = (
    "/api/sentiment/market",
    "/api/sentiment/AAPL",
    "/api/sentiment/BTC/USD",
    "/api/options/AAPL/flow",
)


async def run(base: str, requests: int, clients: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        await wait_ready(client)
        print("cold:")
        for path in PATHS:
            start = time.perf_counter()
            response = await client.get(path)
            assert response.status_code == 200, response.text
            print(f"  {path:28} {1000 * (time.perf_counter() - start):8.1f} ms")
        print("warm:")
        for path in PATHS:
            print(f"  {path:28} " + await warm(client, [path], requests, clients))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    print(machine())
    serve(lambda base: run(base, args.requests, args.clients), SENTIMENT_WATCH_ENABLED="false")


if __name__ == "__main__":
    main()
