"""Accuracy, calibration and speed of the text sentiment scorer, beside plain VADER.

Evaluation: the hand-labelled set ``tests/data/sentiment_eval.csv`` (see
``tests/data/README.md``), per split: accuracy, macro-F1, per-label F1 and the confusion
matrix of :func:`quantumtrade.ml.sentiment.score_text` and of plain VADER (compound with the
authors' ±0.05 thresholds). The scorer's ``confidence`` is judged by its Brier score (mean
squared difference between the confidence and whether the label was right), against a
constant that predicts the dev accuracy, and by the expected calibration error over
:data:`ECE_BINS` equal-width bins; the test split also gets a reliability table.

``--calibrate`` refits the confidence on the dev split (logistic regressions by Newton's method,
polar and neutral labels apart; texts without cues get the smoothed dev accuracy of such texts)
and prints the coefficients. They describe new text only while the dev texts are new to the
lexicon: ``text.py`` holds the fit made before the lexicon was extended from the dev errors
(see its ``confidence``), as a refit on dev afterwards learns the tuned dev accuracy.

Throughput: texts per second on one core (the process is pinned to one CPU) over a mix of the
evaluation texts and longer posts made by joining :data:`LONG_POST_PARTS` of them, beside plain
VADER's ``polarity_scores`` on the same texts as a reference for the machine's speed. The
scorer keeps no results; it remembers VADER's valence of recurring word windows, so it is also
timed with that memo cleared before every text (nothing carried over between texts).

    .venv/bin/python benchmarks/bench_sentiment.py [--calibrate] [--seconds 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from quantumtrade.ml.sentiment import LABELS, score_text, vader_compound, vader_label
from quantumtrade.ml.sentiment.text import _window_valence, confidence_features, label_for

EVAL_CSV = Path(__file__).resolve().parents[1] / "tests" / "data" / "sentiment_eval.csv"
ECE_BINS = 10  # equal-width confidence bins for the expected calibration error
RIDGE = 1e-3  # L2 penalty on the slopes, keeps Newton's method stable
NO_CUE_PRIOR = 1.0  # add-one smoothing of the no-cue confidence
LONG_POST_PARTS = 5  # evaluation texts joined into one long post
LONG_SHARE = 0.2  # share of long posts in the throughput mix


def load_eval(path: Path = EVAL_CSV) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def confusion(truth: Sequence[str], predicted: Sequence[str]) -> list[list[int]]:
    """Rows are the true labels, columns the predicted ones, both in :data:`LABELS` order."""
    index: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
    matrix = [[0] * len(LABELS) for _ in LABELS]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    return matrix


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Accuracy, macro-F1 and the F1 of each label."""
    matrix = confusion(truth, predicted)
    out = {"accuracy": sum(matrix[i][i] for i in range(len(LABELS))) / len(truth)}
    f1s = []
    for i, label in enumerate(LABELS):
        tp = matrix[i][i]
        predicted_n = sum(row[i] for row in matrix)
        true_n = sum(matrix[i])
        f1 = 2 * tp / (predicted_n + true_n) if predicted_n + true_n else 0.0
        out[f"f1_{label}"] = f1
        f1s.append(f1)
    out["macro_f1"] = sum(f1s) / len(f1s)
    return out


def brier(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    return float(np.mean((np.asarray(confidences) - np.asarray(correct, dtype=float)) ** 2))


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> tuple[list[tuple[float, float, int, float, float]], float]:
    """Per non-empty bin (low, high, n, mean confidence, accuracy), and the ECE."""
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n == 0:
            continue
        mean_conf, accuracy = float(conf[mask].mean()), float(hit[mask].mean())
        table.append((b / bins, (b + 1) / bins, n, mean_conf, accuracy))
        ece += n / len(conf) * abs(mean_conf - accuracy)
    return table, ece


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Coefficients (intercept first) of a logistic regression, by Newton's method (IRLS)."""
    design = np.column_stack([np.ones(len(x)), x])
    beta = np.zeros(design.shape[1])
    penalty = ridge * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (y - p) - penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def calibrate(rows: list[dict[str, str]]) -> None:
    """Fit and print the confidence coefficients on the dev split."""
    groups: dict[str, tuple[list[tuple[float, float]], list[float]]] = {
        "polar": ([], []),
        "neutral": ([], []),
    }
    no_cue = [0, 0]
    for row in rows:
        if row["split"] != "dev":
            continue
        result = score_text(row["text"])
        hit = float(result.label == row["label"])
        features = confidence_features(result.score, result.cues)
        if features is None:
            no_cue[0] += int(hit)
            no_cue[1] += 1
            continue
        group = "neutral" if label_for(result.score) == "neutral" else "polar"
        groups[group][0].append(features)
        groups[group][1].append(hit)
    print("confidence fitted on dev (intercept, |score|, agreement); optimistic once the")
    print("lexicon has been tuned on the dev errors:")
    for name, (x, y) in groups.items():
        beta = fit_logistic(np.asarray(x), np.asarray(y))
        coef = ", ".join(f"{b:.2f}" for b in beta)
        print(f"  _{name.upper()}_COEF = ({coef})  # n={len(y)}, accuracy {np.mean(y):.3f}")
    hits, n = no_cue
    value = (hits + NO_CUE_PRIOR) / (n + 2 * NO_CUE_PRIOR)
    print(f"  _NO_CUE_CONFIDENCE = {value:.2f}  # n={n}, right {hits}")


def evaluate(rows: list[dict[str, str]]) -> None:
    by_split = {s: [r for r in rows if r["split"] == s] for s in ("dev", "test")}
    dev_results = [score_text(r["text"]) for r in by_split["dev"]]
    dev_accuracy = float(
        np.mean(
            [res.label == r["label"] for res, r in zip(dev_results, by_split["dev"], strict=True)]
        )
    )
    header = (
        f"{'split':5} {'model':7} {'n':>4} {'accuracy':>8} {'macro-F1':>8} "
        f"{'F1 pos':>6} {'F1 neg':>6} {'F1 neu':>6} {'Brier':>6} {'const':>6} {'ECE':>6}"
    )
    print(header)
    details = []
    for split, items in by_split.items():
        truth = [r["label"] for r in items]
        results = [score_text(r["text"]) for r in items]
        mine = [res.label for res in results]
        vader = [vader_label(vader_compound(r["text"])) for r in items]
        correct = [m == t for m, t in zip(mine, truth, strict=True)]
        conf = [res.confidence for res in results]
        table, ece = reliability(conf, correct)
        b = brier(conf, correct)
        const = brier([dev_accuracy] * len(correct), correct)
        for model, predicted, cal in (
            ("scorer", mine, f"{b:6.3f} {const:6.3f} {ece:6.3f}"),
            ("vader", vader, f"{'-':>6} {'-':>6} {'-':>6}"),
        ):
            m = scores(truth, predicted)
            print(
                f"{split:5} {model:7} {len(items):4d} {m['accuracy']:8.3f} {m['macro_f1']:8.3f} "
                f"{m['f1_positive']:6.3f} {m['f1_negative']:6.3f} {m['f1_neutral']:6.3f} {cal}"
            )
        details.append((split, truth, mine, vader, table))
    print("\n'const' is the Brier score of a constant confidence equal to the dev accuracy.")
    for split, truth, mine, vader, table in details:
        for model, predicted in (("scorer", mine), ("vader", vader)):
            print(f"\n{split} {model} confusion (rows true, columns predicted: pos neg neu)")
            for label, row in zip(LABELS, confusion(truth, predicted), strict=True):
                print(f"  {label:8} " + " ".join(f"{v:4d}" for v in row))
        print(f"\n{split} reliability: confidence bin, n, mean confidence, accuracy")
        for low, high, n, mean_conf, accuracy in table:
            print(f"  [{low:.1f}, {high:.1f})  {n:4d}  {mean_conf:.3f}  {accuracy:.3f}")


def throughput_mix(rows: list[dict[str, str]], total: int) -> list[str]:
    """Evaluation texts repeated, with :data:`LONG_SHARE` long posts of joined texts."""
    texts = [r["text"] for r in rows]
    rng = np.random.default_rng(7)
    out = []
    for i in range(total):
        if rng.random() < LONG_SHARE:
            parts = rng.choice(len(texts), size=LONG_POST_PARTS, replace=False)
            out.append(" ".join(texts[j] for j in parts))
        else:
            out.append(texts[i % len(texts)])
    return out


def rate(fn: Callable[[str], object], texts: list[str], seconds: float) -> float:
    """Texts per second of ``fn`` over ``texts``, repeated for at least ``seconds``."""
    for text in texts[:50]:
        fn(text)
    done, start = 0, time.perf_counter()
    while True:
        for text in texts:
            fn(text)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def bench_throughput(rows: list[dict[str, str]], seconds: float) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = throughput_mix(rows, 2_000)
    chars = sum(map(len, texts)) / len(texts)
    analyzer = SentimentIntensityAnalyzer()
    print(
        f"\nthroughput on one core ({platform.machine()}, {os.cpu_count()} cpus, Python "
        f"{platform.python_version()}): {len(texts)} texts, mean {chars:.0f} chars, "
        f"{LONG_SHARE:.0%} long posts"
    )

    def cold(text: str) -> object:
        _window_valence.cache_clear()
        return score_text(text)

    for name, fn in (
        ("scorer (score_text)", score_text),
        ("scorer, word memo cleared per text", cold),
        ("plain VADER (polarity_scores)", analyzer.polarity_scores),
    ):
        print(f"  {name:36} {rate(fn, texts, seconds):10,.0f} texts/s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calibrate", action="store_true", help="refit the confidence on dev")
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput measurement")
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput part")
    args = parser.parse_args(argv)
    rows = load_eval()
    if args.calibrate:
        calibrate(rows)
        print()
    evaluate(rows)
    if not args.no_speed:
        bench_throughput(rows, args.seconds)


if __name__ == "__main__":
    main()
