"""Speed and honesty of the LSTM direction forecaster.

Run with ``python benchmarks/bench_lstm.py [--symbol AAPL] [--years 10] [--splits 5]``.

Speed: ten years of a simulated stock's daily bars (about 2,500) through ``feature_table``
(24 columns; rows after its warm-up), a default :class:`LstmModel` fitted on all of it
(median of three seeds, with the epochs early stopping ran and kept), then the latency of
forecasting the whole table and of one forecast for the latest bar. A pure-Python loop's time
is printed beside as the machine's speed.

Honesty: the walk-forward scorecard (purged folds, calibrated on held-out slices) of the
LSTM, the logistic regression and the naive baselines, horizon 1, on three series:

- ``simulated``: the simulated stock's feature table and its next-bar log return;
- ``noise``: i.i.d. Gaussian returns beside 25 unrelated Gaussian features: nothing to find,
  so accuracy should be 50 % within its standard error and the Brier score the climatology's;
- ``planted``: the same noise, but the next return is ``K * s_t + e_t`` with
  ``s_t = (x_t + x_{t-1} + x_{t-2}) / sqrt(3)`` from one of the features; the best possible
  accuracy is ``1/2 + arctan(K)/pi`` and, from the current row alone,
  ``1/2 + arctan(a)/pi`` with ``a = (K / sqrt 3) / sqrt(1 + 2 K^2 / 3)``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import torch
from bench_regime import cpu_model, cpu_reference

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.ml.evaluation import BASELINES, LogisticModel, walk_forward_evaluate
from quantumtrade.ml.features import feature_table, labels, warmup_bars
from quantumtrade.ml.models.lstm import LstmModel

SEED = 7
PLANTED_K = 0.5  # signal strength of the planted series
N_FEATURES = 25  # columns of the synthetic series, like the feature table
MODELS = {**BASELINES, "logit": LogisticModel, "lstm": LstmModel}


def simulated(symbol: str | None, years: int) -> tuple[str, pd.DataFrame, pd.Series]:
    """Return a simulated stock's name, feature table and next-bar log return (warm-up cut)."""
    end = datetime(2026, 1, 1, tzinfo=UTC)
    market = SimulatedMarket(seed=SEED, clock=FixedClock(end))
    if symbol is None:
        symbol = next(s.symbol for s in market.universe.specs if not s.is_etf and not s.is_crypto)
    bars = market.bars(symbol, "1Day", end.replace(year=end.year - years), end)
    X = feature_table(bars).iloc[warmup_bars() :]
    y = labels(bars, 1)["forward_return"].iloc[warmup_bars() :]
    return symbol, X, y


def synthetic(n: int, k: float, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Return ``N_FEATURES`` Gaussian features and a next return ``k * s_t + e_t`` (see above)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, N_FEATURES))
    s = (x[:, 0] + np.r_[0.0, x[:-1, 0]] + np.r_[0.0, 0.0, x[:-2, 0]]) / math.sqrt(3.0)
    y = k * s + rng.standard_normal(n)
    X = pd.DataFrame(x, columns=[f"f{i}" for i in range(N_FEATURES)])
    return X, pd.Series(y, index=X.index)


def timings(X: pd.DataFrame, y: pd.Series) -> None:
    known = y.notna().to_numpy()
    Xk, yk = X[known], y[known].to_numpy()
    fits, epochs = [], []
    model = LstmModel(0)
    for seed in range(3):
        model = LstmModel(seed)
        start = time.perf_counter()
        model.fit(Xk, yk > 0, yk)
        fits.append(time.perf_counter() - start)
        epochs.append(f"{model.epochs_run}/{model.best_epoch}")
    whole = []
    for _ in range(5):
        start = time.perf_counter()
        model.predict_proba(X)
        whole.append(time.perf_counter() - start)
    latest = X.iloc[-model.window :]
    one = []
    for _ in range(50):
        start = time.perf_counter()
        model.predict_proba(latest)
        one.append(time.perf_counter() - start)
    print(
        f"fit ({len(Xk)} rows x {X.shape[1]} features, window {model.window}, hidden "
        f"{model.hidden}): median {statistics.median(fits):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in fits)} s; epochs run/kept {', '.join(epochs)})"
    )
    print(
        f"predict whole table ({len(X)} rows): median {statistics.median(whole) * 1e3:.1f} ms; "
        f"latest bar: median {statistics.median(one) * 1e3:.2f} ms"
    )


def scorecards(name: str, X: pd.DataFrame, y: pd.Series, splits: int) -> None:
    start = time.perf_counter()
    report = walk_forward_evaluate(
        X, y, MODELS, horizon=1, n_splits=splits, min_train=1_000, seed=SEED
    )
    elapsed = time.perf_counter() - start
    table = report.summary()[["n", "accuracy", "brier", "climatology_brier", "ece", "ic"]]
    n = int(table["n"].iloc[0])
    print(
        f"\n{name}: {len(X)} bars, {splits} folds, {n} tested (accuracy s.e. "
        f"{0.5 / math.sqrt(n):.3f}), {elapsed:.1f} s"
    )
    print(table.drop(columns="n").to_string(float_format=lambda v: f"{v:.4f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--symbol", default=None, help="default: the first stock")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args()

    print(f"machine: {platform.node()} | nproc {os.cpu_count()} | {cpu_model()}")
    print(
        f"python {platform.python_version()} | numpy {np.__version__} | torch {torch.__version__}"
    )
    print(f"CPU reference (3M-step pure-Python loop): {cpu_reference():.3f} s")
    print("torch runs on 1 thread inside fit/predict")

    symbol, X, y = simulated(args.symbol, args.years)
    print(f"\n{symbol}: {args.years} years of simulated daily bars, seed {SEED}")
    timings(X, y)

    scorecards(f"simulated {symbol}", X, y, args.splits)
    n = len(X)
    scorecards("noise", *synthetic(n, 0.0, SEED), args.splits)
    k = PLANTED_K
    best = 0.5 + math.atan(k) / math.pi
    # Spearman correlation of two Gaussians of correlation rho: (6 / pi) arcsin(rho / 2)
    rank_ic = 6.0 / math.pi * math.asin(k / math.sqrt(1.0 + k * k) / 2.0)
    a = (k / math.sqrt(3.0)) / math.sqrt(1.0 + 2.0 * k * k / 3.0)
    scorecards(f"planted (K = {k})", *synthetic(n, k, SEED), args.splits)
    print(
        f"best possible accuracy {best:.4f}; from the current row alone "
        f"{0.5 + math.atan(a) / math.pi:.4f}; best rank IC {rank_ic:.3f}"
    )


if __name__ == "__main__":
    main()
