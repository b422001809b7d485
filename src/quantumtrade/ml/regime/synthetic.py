"""Daily bars from a known three-regime Markov chain, and that chain's own posteriors.

The series are the textbook case for a regime model: each regime has its own drift,
volatility and volume, regimes last ``STAY_BARS`` bars on average, and the switch goes to
either other regime. ``true_posteriors`` runs the forward (and backward) pass of the
generating process with its parameters known: no label-free model can do better on average,
so it is the ceiling an accuracy target must be held against.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

# name: (annual drift, annual volatility, volume multiplier)
REGIMES = {
    "bull": (0.50, 0.12, 1.0),
    "sideways": (0.00, 0.13, 0.85),
    "bear": (-0.60, 0.35, 1.6),
}
STAY_BARS = 150.0
BASE_VOLUME = 1e6
VOLUME_NOISE = 0.3  # standard deviation of log volume around its regime's level
DAYS = 252


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, npt.NDArray[np.object_]]:
    """Return ``n`` daily bars (open, high, low, close, volume) and the true regime of each."""
    rng = np.random.default_rng(seed)
    names = list(REGIMES)
    state = int(rng.integers(3))
    truth = np.empty(n, dtype=object)
    for t in range(n):
        if rng.random() < 1.0 / STAY_BARS:
            state = int(rng.choice([k for k in range(3) if k != state]))
        truth[t] = names[state]
    drift, vol, volume = (np.array([REGIMES[r][i] for r in truth]) for i in range(3))
    returns = drift / DAYS + vol / np.sqrt(DAYS) * rng.standard_normal(n)
    close = 100.0 * np.exp(np.cumsum(returns))
    spread = vol / np.sqrt(DAYS) * np.abs(rng.standard_normal(n))
    index = pd.bdate_range("2005-01-03", periods=n, tz="UTC", name="time")
    bars = pd.DataFrame(
        {
            "open": close * np.exp(-returns / 2),
            "high": close * np.exp(spread),
            "low": close * np.exp(-spread),
            "close": close,
            "volume": BASE_VOLUME * volume * np.exp(VOLUME_NOISE * rng.standard_normal(n)),
        },
        index=index,
    )
    return bars, truth


def true_posteriors(bars: pd.DataFrame, smoothed: bool) -> FloatArray:
    """Return P(regime | bars) per bar under the generating process, columns in ``REGIMES``
    order: from the bars up to each one (``smoothed`` false) or from all of them."""
    r = np.diff(np.log(bars["close"].to_numpy()), prepend=np.nan)
    log_volume = np.log(bars["volume"].to_numpy())
    span = np.log(bars["high"].to_numpy() / bars["low"].to_numpy()) / 2
    log_b = np.zeros((len(bars), len(REGIMES)))
    for k, (drift, vol, volume) in enumerate(REGIMES.values()):
        sd = vol / np.sqrt(DAYS)
        returns = -0.5 * ((r - drift / DAYS) / sd) ** 2 - np.log(sd)
        returns[0] = 0.0
        level = np.log(BASE_VOLUME * volume)
        log_b[:, k] = returns - 0.5 * ((log_volume - level) / VOLUME_NOISE) ** 2
        log_b[:, k] += -0.5 * (span / sd) ** 2 - np.log(sd)  # the range is half-normal
    move = 1.0 / STAY_BARS
    trans = np.full((3, 3), move / 2) + np.eye(3) * (1.0 - 1.5 * move)
    b: FloatArray = np.exp(log_b - log_b.max(axis=1, keepdims=True))
    alpha: FloatArray = np.empty_like(b)
    a = np.full(3, 1.0 / 3)
    for t in range(len(b)):
        a = (a @ trans if t else a) * b[t]
        alpha[t] = a = a / a.sum()
    if not smoothed:
        return alpha
    post: FloatArray = alpha.copy()
    beta = np.ones(3)
    for t in range(len(b) - 2, -1, -1):
        beta = trans @ (b[t + 1] * beta)
        beta /= beta.sum()
        post[t] = alpha[t] * beta / (alpha[t] * beta).sum()
    return post


def true_labels(bars: pd.DataFrame, smoothed: bool) -> npt.NDArray[np.object_]:
    """Return the most probable regime per bar under the generating process."""
    names = np.array(list(REGIMES), dtype=object)
    out: npt.NDArray[np.object_] = names[true_posteriors(bars, smoothed).argmax(axis=1)]
    return out
