"""Time the paper-trading order books: build 1,000,000 resting limits, then sweep ticks.

Run with ``python benchmarks/bench_matching.py``. A seeded numpy RNG spreads 10,000 limit
orders over each of 100 symbols (buys 2 to 2,001 cents below a mid near $100, sells as far
above it, random sizes), plus per symbol 200 stops, 40 stop-limits and 10 trailing stops.
A sweep processes one tick for every symbol: ``on_trade`` then ``on_quote``.

* quiet: the tick sits at the mid and crosses nothing (trailing stops still move).
* crossing: each sweep the price steps up so that the quote crosses the next ~10 sells of
  every symbol (~0.1 % of its orders) and the trade fires the buy stops it passes; the
  returned entries are removed through ``Books.remove``, as the engine does after filling.

Sizes stay outside the book (the engine owns quantities); the sweep adds them up to stand in
for the engine's work per fill. Timing figures are the median and p99 over ``--sweeps``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np

from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.book import BookEntry, Books

SYMBOLS, LIMITS_PER_SYMBOL = 100, 10_000
STOPS, STOP_LIMITS, TRAILING = 200, 40, 10  # per symbol, half on each side
CROSS_PER_SWEEP = 10  # sells crossed per symbol per crossing sweep: 0.1 % of 10,000
TARGET_MS = 50.0


def rss_mb() -> float:
    """Return the resident set size now (Linux), else the peak so far."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cents(value: int) -> Decimal:
    # One Decimal per order, as prices parsed from separate requests would be.
    return Decimal(int(value)).scaleb(-2)


def make_symbol(
    rng: np.random.Generator, symbol: str, first_seq: int
) -> tuple[int, list[BookEntry], np.ndarray]:
    """Return the mid (cents), the entries of one symbol and its sorted sell limits (cents)."""
    mid = int(rng.integers(9_000, 11_000))
    half = LIMITS_PER_SYMBOL // 2
    buys = mid - rng.integers(2, 2_002, half)
    sells = mid + rng.integers(2, 2_002, half)
    id_ints = rng.integers(0, 2**63, (LIMITS_PER_SYMBOL + STOPS + STOP_LIMITS + TRAILING, 2))
    ids = [str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in id_ints]
    order = rng.permutation(LIMITS_PER_SYMBOL)  # interleave buys and sells in time
    entries: list[BookEntry] = []
    seq = first_seq
    for i in order:
        side, price = (Side.BUY, buys[i]) if i < half else (Side.SELL, sells[i - half])
        entries.append(BookEntry(ids[len(entries)], side, "limit", seq, limit_price=cents(price)))
        seq += 1
    for k, offset in enumerate(rng.integers(2, 2_002, STOPS)):
        side, stop = (Side.BUY, mid + offset) if k % 2 else (Side.SELL, mid - offset)
        entries.append(BookEntry(ids[len(entries)], side, "stop", seq, stop_price=cents(stop)))
        seq += 1
    for k, offset in enumerate(rng.integers(2, 2_002, STOP_LIMITS)):
        side, stop = (Side.BUY, mid + offset) if k % 2 else (Side.SELL, mid - offset)
        limit = stop + 5 if side is Side.BUY else stop - 5
        entries.append(
            BookEntry(
                ids[len(entries)],
                side,
                "stop_limit",
                seq,
                stop_price=cents(stop),
                limit_price=cents(limit),
            )
        )
        seq += 1
    for k in range(TRAILING):
        side = Side.BUY if k % 2 else Side.SELL
        entries.append(
            BookEntry(ids[len(entries)], side, "trailing_stop", seq, trail_percent=Decimal(5))
        )
        seq += 1
    return mid, entries, np.sort(sells)


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=50, help="sweeps per scenario")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, python {platform.python_version()}, numpy {np.__version__}")

    rss_start = rss_mb()
    started = time.perf_counter()
    symbols = [f"S{i:03d}" for i in range(SYMBOLS)]
    mids: dict[str, int] = {}
    sells_sorted: dict[str, np.ndarray] = {}
    generated: list[tuple[str, BookEntry]] = []
    for symbol in symbols:
        mid, entries, sells = make_symbol(rng, symbol, len(generated))
        mids[symbol], sells_sorted[symbol] = mid, sells
        generated.extend((symbol, entry) for entry in entries)
    sizes = rng.integers(1, 1_000, len(generated))  # indexed by seq
    generate_s = time.perf_counter() - started
    rss_entries = rss_mb()

    books = Books()
    started = time.perf_counter()
    for symbol, entry in generated:
        books.add(symbol, entry)
    build_s = time.perf_counter() - started
    rss_built = rss_mb()
    del generated
    limits = SYMBOLS * LIMITS_PER_SYMBOL
    print(
        f"book: {len(books):,} entries ({limits:,} limits) over {SYMBOLS} symbols; "
        f"generated in {generate_s:.1f} s"
    )
    print(
        f"build: {build_s:.2f} s ({len(books) / build_s:,.0f} adds/s); "
        f"RSS {rss_start:.0f} MB -> {rss_entries:.0f} MB with the entries -> "
        f"{rss_built:.0f} MB indexed (+{rss_built - rss_entries:.0f} MB for the index, "
        f"{(rss_built - rss_start) * 2**20 / len(books):.0f} B per resting order in all)"
    )

    quiet_ticks = [
        (books.book(s), cents(mids[s]), cents(mids[s] - 1), cents(mids[s] + 1)) for s in symbols
    ]
    quiet: list[float] = []
    for _ in range(args.sweeps):
        started = time.perf_counter()
        returned = 0
        for book, trade, bid, ask in quiet_ticks:
            returned += len(book.on_trade(trade)) + len(book.on_quote(bid, ask))
        quiet.append(time.perf_counter() - started)
        assert returned == 0, "the quiet tick crossed something"

    crossing: list[float] = []
    filled_orders = filled_qty = 0
    for sweep in range(args.sweeps):
        # The price steps up so each sweep meets orders the previous one did not remove.
        ticks = []
        for s in symbols:
            level = int(sells_sorted[s][CROSS_PER_SWEEP * (sweep + 1) - 1])
            ticks.append((books.book(s), cents(level), cents(level), cents(level + 1)))
        started = time.perf_counter()
        for book, trade, bid, ask in ticks:
            done = book.on_trade(trade) + book.on_quote(bid, ask)
            for entry in done:
                filled_qty += int(sizes[entry.seq])
                books.remove(entry.order_id)
            filled_orders += len(done)
        crossing.append(time.perf_counter() - started)

    per_symbol = filled_orders / (args.sweeps * SYMBOLS)
    print(f"gc: {'on' if gc.isenabled() else 'off'}, {args.sweeps} sweeps of {SYMBOLS} symbols")
    for name, samples in (("quiet", quiet), ("crossing", crossing)):
        print(
            f"{name:>9} sweep: median {percentile_ms(samples, 50):7.2f} ms   "
            f"p99 {percentile_ms(samples, 99):7.2f} ms   (target <= {TARGET_MS:.0f} ms)"
        )
    print(
        f"crossing: {per_symbol:.1f} orders removed per symbol per tick "
        f"({filled_orders:,} in all, {filled_qty:,} shares); {len(books):,} entries left"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
