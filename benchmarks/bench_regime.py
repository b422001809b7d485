"""Accuracy and speed of the market regime classifier against the simulator's true regimes.

Run with ``python benchmarks/bench_regime.py [--symbols 100]``. A seeded universe of equities
(the simulator's regime chain is market-wide; each symbol has its own beta, volatility and
noise) gives ten years of daily bars to fit on (2000-2009) and the next ten to classify
(2010-2019), so the filtered labels are out of sample twice over: in parameters and in time.
The true trend regime of a bar is the simulator's regime with *crisis* counted as *bear*.

Besides the classifier, an *oracle* row runs the same filter and smoother with the true
regime of every test bar known: per-regime emission means and variances and the transition
matrix are estimated from the test bars' own true labels. No label-free model can beat it,
so it shows how much of the gap to 100 % is in the data rather than in the classifier.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.simulator.universe import SymbolSpec
from quantumtrade.ml.regime import TREND_REGIMES, RegimeModel, classify, fit
from quantumtrade.ml.regime.evaluation import (
    confusion_matrix,
    detection_lags,
    per_regime_accuracy,
    summarise_lags,
)
from quantumtrade.ml.regime.features import hmm_features

SEED = 7
TRAIN = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2010, 1, 1, tzinfo=UTC))
TEST = (datetime(2010, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
TO_TREND = {"bull": "bull", "sideways": "sideways", "bear": "bear", "crisis": "bear"}
SECTORS = ("Technology", "Financials", "Energy", "Health Care", "Consumer Staples")


def universe(n: int) -> list[SymbolSpec]:
    """Return ``n`` equities with spread-out volatility and beta (fixed by the seed)."""
    rng = np.random.default_rng(SEED)
    return [
        SymbolSpec(
            symbol=f"S{i:03d}",
            name=f"Symbol {i}",
            price=float(rng.uniform(20, 400)),
            volatility=float(rng.uniform(0.15, 0.6)),
            beta=float(rng.uniform(0.5, 1.8)),
            sector=SECTORS[i % len(SECTORS)],
            avg_volume=float(rng.uniform(2e6, 5e7)),
        )
        for i in range(n)
    ]


def cpu_reference() -> float:
    """Return the seconds a fixed pure-Python loop takes (best of 3): the machine's speed."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - start)
    return best


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo").read().splitlines():  # noqa: PTH123, SIM115
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def oracle_model(model: RegimeModel, bars: pd.DataFrame, truth: np.ndarray) -> RegimeModel:
    """Return ``model`` with parameters estimated from the true regime of every bar."""
    names = ("bull", "sideways", "bear", "crisis")
    codes = np.array([names.index(t) for t in truth])
    z = (hmm_features(bars, model.use_volume) - model.feature_mean) / model.feature_scale
    c = codes[1:]
    present = [k for k in range(4) if (c == k).sum() > 1]
    means = np.array([z[c == k].mean(axis=0) for k in present])
    variances = np.array([z[c == k].var(axis=0) for k in present])
    counts = np.ones((4, 4)) * 1e-3
    np.add.at(counts, (c[:-1], c[1:]), 1.0)
    transition = counts[np.ix_(present, present)]
    transition /= transition.sum(axis=1, keepdims=True)
    start = np.bincount(c, minlength=4)[present] / len(c)
    return RegimeModel(
        **{
            **model.__dict__,
            "start_probability": start,
            "transition": transition,
            "means": means,
            "variances": variances,
            "state_names": tuple(TO_TREND[names[k]] for k in present),
        }
    )


def report(name: str, truth: np.ndarray, predicted: np.ndarray, lags: np.ndarray) -> None:
    acc = float(np.mean(truth == predicted))
    per = per_regime_accuracy(truth, predicted, TREND_REGIMES)
    summary = summarise_lags(lags)
    share = ", ".join(f"{k} {v:.1%}" for k, v in per.items())
    print(f"{name:<20} all {acc:.1%} | {share}")
    print(
        f"{'':<20} detection lag (bars): mean {summary.mean:.1f}, median {summary.median:.1f},"
        f" detected {summary.detected}/{summary.changes} changes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--states", type=int, default=3)
    parser.add_argument("--stickiness", type=float, default=1.5)
    parser.add_argument("--no-oracle", action="store_true")
    args = parser.parse_args()
    logging.getLogger("hmmlearn").setLevel(logging.ERROR)  # "not converging" chatter

    print(f"machine: {platform.node()} | nproc {os.cpu_count()} | {cpu_model()}")
    print(f"python {platform.python_version()} | numpy {np.__version__}")
    print(f"CPU reference (3M-step pure-Python loop): {cpu_reference():.3f} s")

    specs = universe(args.symbols)
    market = SimulatedMarket(
        seed=SEED, universe=specs, clock=FixedClock(datetime(2030, 1, 1, tzinfo=UTC))
    )
    train, test, truths = [], [], []
    for spec in specs:
        train.append(market.bars(spec.symbol, "1Day", *TRAIN))
        bars = market.bars(spec.symbol, "1Day", *TEST)
        test.append(bars)
        truths.append(market.bar_regimes(bars).to_numpy())
    n_bars = sum(len(b) for b in test)

    fit_times, models = [], []
    for bars in train:
        start = time.perf_counter()
        models.append(
            fit(
                bars,
                seed=SEED,
                n_states=args.states,
                n_restarts=args.restarts,
                stickiness=args.stickiness,
            )
        )
        fit_times.append(time.perf_counter() - start)

    for mode in ("filtered", "smoothed"):  # compile the kernels outside the timing
        classify(test[0], models[0], mode=mode)
    timings: dict[str, float] = {}
    results: dict[str, list[np.ndarray]] = {}
    for mode in ("filtered", "smoothed"):
        start = time.perf_counter()
        out = [classify(b, m, mode=mode) for b, m in zip(test, models, strict=True)]
        timings[mode] = time.perf_counter() - start
        results[mode] = [r.trend_regime for r in out]
    for mode in () if args.no_oracle else ("filtered", "smoothed"):
        oracle = [
            classify(b, oracle_model(m, b, t), mode=mode).trend_regime
            for b, m, t in zip(test, models, truths, strict=True)
        ]
        results[f"oracle {mode}"] = oracle

    truth = np.concatenate([[TO_TREND[x] for x in t] for t in truths])
    print(
        f"\n{args.symbols} symbols x {n_bars // args.symbols} daily bars (2010-2019), "
        f"fitted on 2000-2009, simulator seed {SEED}"
    )
    shares = ", ".join(f"{r} {np.mean(truth == r):.1%}" for r in TREND_REGIMES)
    print(f"true trend regime shares: {shares}\n")
    for name, labels in results.items():
        lags = np.concatenate(
            [
                detection_lags([TO_TREND[x] for x in t], p)
                for t, p in zip(truths, labels, strict=True)
            ]
        )
        report(name, truth, np.concatenate(labels), lags)
        if not name.startswith("oracle"):
            print(confusion_matrix(truth, np.concatenate(labels), TREND_REGIMES).to_string())
        print()
    print(
        f"fit: {sum(fit_times):.1f} s for {args.symbols} symbols "
        f"(median {statistics.median(fit_times):.2f} s per symbol, {args.restarts} restarts)"
    )
    for mode, seconds in timings.items():
        print(
            f"classify {mode}: {seconds:.3f} s for {args.symbols} symbols x 10 years "
            f"({n_bars / seconds:,.0f} bars/s)"
        )


if __name__ == "__main__":
    main()
