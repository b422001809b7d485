"""Latency of ``GET /api/regime/{symbol}`` on a live server: the first call of the day (a fit)
and then with a warm cache.

Starts ``quantumtrade serve`` (embedded default, feed off) on a free port, calls each symbol
once cold, then ``--requests`` warm calls spread over the symbols from ``--clients``
concurrent clients, and prints p50/p90/p99 beside a CPU reference figure.

    .venv/bin/python benchmarks/bench_regime_api.py [--requests 2000] [--clients 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

SYMBOLS = ("AAPL", "MSFT", "KO", "SPY", "BTC/USD")


def reference_seconds() -> float:
    """Time a fixed pure-Python loop: the machine's speed right now."""
    start = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if (await client.get("/api/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("server did not start")


async def run(base: str, requests: int, clients: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        await wait_ready(client)
        print("cold (first call of the day: bars, fit, label):")
        for symbol in SYMBOLS:
            start = time.perf_counter()
            response = await client.get(f"/api/regime/{symbol}")
            assert response.status_code == 200, response.text
            print(f"  {symbol:8} {1000 * (time.perf_counter() - start):8.1f} ms")
        print(
            "warm: " + await warm(client, [f"/api/regime/{s}" for s in SYMBOLS], requests, clients)
        )


async def warm(client: httpx.AsyncClient, paths: list[str], requests: int, clients: int) -> str:
    """GET ``paths`` in turn ``requests`` times from ``clients`` concurrent clients; return the
    rate and the latency percentiles."""
    latencies: list[float] = []

    async def worker(n: int) -> None:
        for i in range(n):
            start = time.perf_counter()
            response = await client.get(paths[i % len(paths)])
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text

    start = time.perf_counter()
    await asyncio.gather(*(worker(requests // clients) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    return (
        f"{len(latencies)} requests, {clients} clients, {len(latencies) / elapsed:.0f} req/s,"
        f" p50 {1000 * cuts[49]:.1f} ms, p90 {1000 * cuts[89]:.1f} ms, p99 {1000 * cuts[98]:.1f} ms"
    )


def serve(run_against: Callable[[str], Coroutine[Any, Any, None]], **env: str) -> None:
    """Start ``quantumtrade serve`` (embedded default, feed off) on a free port with ``env``
    added, await ``run_against(base_url)``, and stop the server."""
    port = free_port()
    exe = Path(sys.executable).with_name("quantumtrade")
    with tempfile.TemporaryDirectory() as data:
        settings = dict(
            os.environ,
            PORT=str(port),
            DATA_DIR=data,
            LOG_LEVEL="warning",
            MARKET_FEED_ENABLED="false",
            REGIME_WATCH_ENABLED="false",
            RATE_LIMIT_MAX="10000000",
            **env,
        )
        server = subprocess.Popen([str(exe), "serve"], env=settings, cwd=data)
        try:
            asyncio.run(run_against(f"http://127.0.0.1:{port}"))
        finally:
            server.terminate()
            server.wait(timeout=30)


def machine() -> str:
    return (
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}; CPU reference loop {reference_seconds():.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    print(machine())
    serve(lambda base: run(base, args.requests, args.clients))


if __name__ == "__main__":
    main()
