"""Honesty of the sentiment signals: their IC on the simulated world, planted versus control.

    .venv/bin/python benchmarks/bench_sentiment_ic.py [--seeds 3 4 7] [--years 10]

For each seed, every stock's news reaction IC (the text scorer's score of each story against
the reaction that follows it, beside the oracle: the hidden true tone) and the insider lead IC
(purchases +1, discretionary sales -1, against the next 15 sessions), on the symbols where the
simulator planted effects and on its control symbols, where nothing is planted. An honest
signal shows an IC on the first group and none on the second. See
``quantumtrade.services.sentiment.honesty``.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.services.sentiment import honesty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 7])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--social-years", type=int, default=2, help="posts are many: fewer years")
    args = parser.parse_args()
    end = datetime(2026, 1, 1, tzinfo=UTC)
    start = end.replace(year=end.year - args.years)
    for seed in args.seeds:
        market = SimulatedMarket(seed=seed, clock=FixedClock(end))
        stocks = [s.symbol for s in market.universe.specs if not s.is_etf and not s.is_crypto]
        groups = honesty.split_symbols(market, stocks)
        print(f"seed {seed}: {len(groups['planted'])} planted, controls {groups['control']}")
        began = time.perf_counter()
        for figure in honesty.news_reaction(market, stocks, start, end):
            print("  " + honesty.describe(figure), "recovers oracle:", figure.recovers_oracle)
        for measure in (honesty.insider_lead, honesty.options_lead):
            for figure in measure(market, stocks, start, end):
                print("  " + honesty.describe(figure))
        social_start = end.replace(year=end.year - min(args.years, args.social_years))
        for figure in honesty.social_lead(market, stocks, social_start, end):
            print("  " + honesty.describe(figure))
        print(f"  ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
