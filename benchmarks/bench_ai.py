"""AI decisions: training time per model, decision latency with warm models, the universe.

Ten years of a simulated stock's daily bars (seed 7) go through ``ml.pipeline`` with the
server's default configuration (5 folds, 500 training bars at least, 200 trees, 30 LSTM
epochs): each model's walk-forward evaluation plus its live fit, timed; then the decision at
the last bar (inputs over the whole history, every model's forecast, the consensus fitted
once, as the service caches it per set of model versions), repeated to give p50 and p99 with
the models in memory. ``--universe`` trains every simulated symbol
and times one decision each.

    .venv/bin/python benchmarks/bench_ai.py [--universe]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import pandas as pd
from bench_regime import cpu_model, cpu_reference

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.ml import pipeline

SEED = 7
END = datetime(2026, 1, 1, tzinfo=UTC)
CONFIG = pipeline.PipelineConfig()


def _bars(market: SimulatedMarket, symbol: str, years: int) -> pd.DataFrame:
    return market.bars(symbol, "1Day", END.replace(year=END.year - years), END)


def train(bars: pd.DataFrame) -> tuple[dict[str, pipeline.TrainedModel], dict[str, float], float]:
    started = time.perf_counter()
    data = pipeline.training_data(bars, CONFIG)
    prepare = time.perf_counter() - started
    shared = pipeline.WalkForwardShared(data, CONFIG)
    models, seconds = {}, {}
    for name in pipeline.MODEL_NAMES:
        started = time.perf_counter()
        models[name] = pipeline.train_model(shared, name)
        seconds[name] = time.perf_counter() - started
    return models, seconds, prepare


def decide(
    models: dict[str, pipeline.TrainedModel],
    bars: pd.DataFrame,
    consensus: pipeline.ConsensusModel,
) -> float:
    """Time one decision: the service fits the consensus once per set of model versions."""
    started = time.perf_counter()
    regime = models["gbm"].regime
    X = pipeline.inputs(bars, horizon=1, regime=regime)
    pipeline.decide(
        consensus,
        models,
        X,
        bars,
        cost=0.001,
        threshold=0.0,
        kelly_fraction=0.25,
        max_position_fraction=0.1,
    )
    pipeline.top_features(models["gbm"], X)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--universe", action="store_true")
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} cpus")
    print(f"CPU reference loop: {cpu_reference():.3f} s (lower is faster)")
    market = SimulatedMarket(seed=SEED, clock=FixedClock(END))
    symbol = next(s.symbol for s in market.universe.specs if not s.is_etf and not s.is_crypto)
    bars = _bars(market, symbol, args.years)
    models, seconds, prepare = train(bars)
    print(f"{symbol}: {len(bars)} bars; inputs and the regime HMM {prepare:.2f} s")
    print("| model | train (walk-forward + live fit) | walk-forward accuracy | Brier skill | IC |")
    print("|---|---:|---:|---:|---:|")
    for name, model in models.items():
        card = model.scorecard
        print(
            f"| {name} | {seconds[name]:.2f} s | {card['accuracy']:.3f} | "
            f"{card['brier_skill']:+.4f} | {card['ic']:+.3f} |"
        )
    print(f"total training: {prepare + sum(seconds.values()):.1f} s")
    started = time.perf_counter()
    consensus = pipeline.consensus_of(models)
    print(f"consensus fit (once per set of model versions): {time.perf_counter() - started:.3f} s")
    decide(models, bars, consensus)
    latencies = sorted(decide(models, bars, consensus) for _ in range(200))
    p50 = statistics.median(latencies) * 1e3
    p99 = latencies[int(0.99 * len(latencies)) - 1] * 1e3
    print(f"decision with warm models: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    if args.universe:
        started = time.perf_counter()
        each = []
        for spec in market.universe.specs:
            symbol_bars = _bars(market, spec.symbol, args.years)
            trained, _, _ = train(symbol_bars)
            each.append(decide(trained, symbol_bars, pipeline.consensus_of(trained)))
        print(
            f"universe: {len(each)} symbols trained and decided in "
            f"{time.perf_counter() - started:.0f} s; one decision each: "
            f"{sum(each) * 1e3:.0f} ms in all"
        )


if __name__ == "__main__":
    main()
