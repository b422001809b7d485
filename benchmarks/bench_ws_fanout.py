"""WebSocket fan-out: tick-to-client latency with N clients x 20 symbols at 10 ticks/s/symbol.

A real server (the app under uvicorn, in a subprocess) publishes synthetic ticks stamped with
their send time on its bus; its hub fans them out to N ``websockets`` clients spread over a
few client processes, which measure receive time minus send time. Loopback only.

    .venv/bin/python benchmarks/bench_ws_fanout.py                 # N = 100, 500, 1000
    .venv/bin/python benchmarks/bench_ws_fanout.py --clients 200 --seconds 5
    .venv/bin/python benchmarks/bench_ws_fanout.py --batch    # clients connect with ?batch=true
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

SYMBOLS_PER_CLIENT = 20
TICKS_PER_SECOND = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(port: int, data_dir: str) -> None:
    """Run the app with a synthetic tick publisher (the server subprocess)."""
    import uvicorn

    from quantumtrade.api.app import create_app
    from quantumtrade.core.settings import load_settings

    settings = load_settings(
        _env_file=None,
        environment="test",
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir}/bench.db",
        market_feed_enabled=False,
        rate_limit_enabled=False,
        ws_heartbeat_seconds=600,
    )
    app = create_app(settings)
    container = app.state.container
    symbols = [info.symbol for info in container.market.symbols()][:SYMBOLS_PER_CLIENT]

    async def publish_ticks() -> None:
        period = 1 / TICKS_PER_SECOND
        next_at = time.monotonic()
        seq = 0
        while True:
            for symbol in symbols:
                seq += 1
                await container.bus.publish(
                    f"market.{symbol}",
                    {
                        "type": "price",
                        "symbol": symbol,
                        "price": 100.0,
                        "seq": seq,
                        "sent": time.time(),
                    },
                )
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    container.add_background_job("bench_ticks", publish_ticks)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


async def _clients(
    port: int, count: int, warmup: float, seconds: float, batch: bool
) -> dict[str, Any]:
    import websockets

    latencies: list[float] = []
    received = 0
    start_measure = time.monotonic() + 1e9
    stop_at = start_measure
    failures = 0
    symbols: list[str] = []

    async def client() -> None:
        nonlocal received, failures
        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws{'?batch=true' if batch else ''}",
                compression=None,
                open_timeout=60,
                max_queue=None,
            ) as ws:
                greeting = json.loads(await ws.recv())
                greeting = greeting[0] if batch else greeting
                assert greeting["type"] == "connected"
                await ws.send(
                    json.dumps({"type": "subscribe", "symbols": symbols, "channels": ["trades"]})
                )
                async for raw in ws:
                    now = time.time()
                    mono = time.monotonic()
                    if mono >= stop_at:
                        return
                    if mono >= start_measure:
                        decoded = json.loads(raw)
                        for message in decoded if batch else (decoded,):
                            if message.get("type") == "price":
                                received += 1
                                latencies.append(now - message["sent"])
        except Exception:
            failures += 1

    symbols.extend(_symbols())
    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(client()))
        await asyncio.sleep(0.002)  # do not storm the accept queue
    start_measure = time.monotonic() + warmup
    stop_at = start_measure + seconds
    await asyncio.sleep(warmup + seconds + 0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"latencies": latencies, "received": received, "failures": failures}


def _symbols() -> list[str]:
    from quantumtrade.marketdata.simulator.universe import Universe

    return [info.symbol for info in Universe.of(None).infos()][:SYMBOLS_PER_CLIENT]


def _client_process(
    port: int, count: int, warmup: float, seconds: float, batch: bool, out: Any
) -> None:
    out.put(asyncio.run(_clients(port, count, warmup, seconds, batch)))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(n: int, seconds: float, processes: int, batch: bool = False) -> dict[str, Any]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--data-dir", data_dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                    break
                time.sleep(0.1)
            warmup = 2.0 + n / 400  # connecting takes longer with more clients
            out: Any = mp.Queue()
            shares = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
            workers = [
                mp.Process(target=_client_process, args=(port, share, warmup, seconds, batch, out))
                for share in shares
                if share
            ]
            for worker in workers:
                worker.start()
            results = [out.get(timeout=warmup + seconds + 120) for _ in workers]
            for worker in workers:
                worker.join()
        finally:
            server.terminate()
            server.wait(10)
    latencies = [x for r in results for x in r["latencies"]]
    expected = n * SYMBOLS_PER_CLIENT * TICKS_PER_SECOND * seconds
    return {
        "clients": n,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "delivered_per_s": sum(r["received"] for r in results) / seconds,
        "delivered_share": sum(r["received"] for r in results) / expected,
        "failed_clients": sum(r["failures"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window per N")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--batch", action="store_true", help="clients ask for batched frames")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data_dir)
        return
    machine = (
        f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()})"
    )
    print(f"machine: {machine}")
    print(
        f"{SYMBOLS_PER_CLIENT} symbols/client, {TICKS_PER_SECOND:g} ticks/s/symbol, "
        f"{args.seconds:g}s window, {args.processes} client processes"
        + (", batched frames" if args.batch else "")
    )
    print("| clients | p50 ms | p99 ms | delivered msg/s | delivered share | failed clients |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.clients:
        r = run(n, min(args.seconds, 30.0), args.processes, args.batch)
        print(
            f"| {r['clients']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['delivered_per_s']:,.0f} | {r['delivered_share']:.0%} | {r['failed_clients']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
