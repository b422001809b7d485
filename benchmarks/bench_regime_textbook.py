"""The regime classifier on the textbook series, beside the ceiling of the generating process.

Run with ``python benchmarks/bench_regime_textbook.py [--series 20]``. The series come from
``ml.regime.synthetic``: three regimes with well separated drift, volatility and volume,
lasting 150 bars on average. One model is fitted on ten years of daily bars (seed 1) and
classifies ``--series`` other series of 1,500 bars (seeds 2 onwards), in both modes. Beside
it, *ceiling* labels each bar with the most probable regime under the generating process,
its parameters known (``true_posteriors``): no label-free model does better on average, so
an accuracy target above the ceiling cannot be met on these series by any model.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from quantumtrade.ml.regime import classify, fit
from quantumtrade.ml.regime.evaluation import accuracy
from quantumtrade.ml.regime.synthetic import simulate, true_labels

TRAIN_BARS = 2520  # ten years of daily bars, what the service fits on
TEST_BARS = 1500
TARGETS = {"filtered": 0.95, "smoothed": 0.97}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    model = fit(simulate(TRAIN_BARS, 1)[0], seed=0)
    print(f"fitted on {TRAIN_BARS} bars in {time.perf_counter() - started:.2f} s: "
          f"states {model.state_names}")  # fmt: skip
    rows: dict[str, list[tuple[float, float]]] = {mode: [] for mode in TARGETS}
    for seed in range(2, 2 + args.series):
        bars, truth = simulate(TEST_BARS, seed)
        for mode in TARGETS:
            ours = accuracy(truth, classify(bars, model, mode=mode).trend_regime)  # type: ignore[arg-type]
            ceiling = accuracy(truth, true_labels(bars, mode == "smoothed"))
            rows[mode].append((ours, ceiling))
    print(f"{args.series} series x {TEST_BARS} bars (seeds 2-{1 + args.series})")
    print(
        "mode      | target | ours mean (min-max)    | ceiling mean (min-max) | "
        "series where ours / the ceiling reach the target"
    )
    for mode, pairs in rows.items():
        ours, ceiling = np.array(pairs).T
        target = TARGETS[mode]
        print(
            f"{mode:9s} | {target:.0%}    | {ours.mean():.1%} ({ours.min():.1%}-{ours.max():.1%})"
            f" | {ceiling.mean():.1%} ({ceiling.min():.1%}-{ceiling.max():.1%})"
            f" | {(ours >= target).sum()} / {(ceiling >= target).sum()} of {len(ours)}"
        )


if __name__ == "__main__":
    main()
