"""Forward filtering and forward-backward smoothing of a diagonal Gaussian HMM, in log space.

The kernels walk the bars in order, one at a time, so the filtered probabilities of a prefix
of the bars are exactly (bit for bit) the first rows of the filtered probabilities of all bars.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]

LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def _log_sum_exp(values: FloatArray) -> float:  # pragma: no cover - compiled
    top = values.max()
    if not np.isfinite(top):
        return float(top)
    total = 0.0
    for v in values:
        total += math.exp(v - top)
    return float(top + math.log(total))


@njit(cache=True)
def emission_log_likelihood(
    z: FloatArray, means: FloatArray, variances: FloatArray
) -> FloatArray:  # pragma: no cover - compiled
    """Return log N(z[t] | state k) for each bar t and state k (diagonal covariances)."""
    n, f = z.shape
    k_states = means.shape[0]
    out = np.empty((n, k_states))
    for t in range(n):
        for k in range(k_states):
            acc = 0.0
            for j in range(f):
                d = z[t, j] - means[k, j]
                acc += d * d / variances[k, j] + math.log(variances[k, j]) + LOG_2PI
            out[t, k] = -0.5 * acc
    return out


@njit(cache=True)
def forward(
    log_b: FloatArray, log_start: FloatArray, log_trans: FloatArray
) -> FloatArray:  # pragma: no cover - compiled
    """Return log P(state at t | bars up to t) for every bar (the filtered probabilities)."""
    n, k_states = log_b.shape
    out = np.empty((n, k_states))
    step = np.empty(k_states)
    terms = np.empty(k_states)
    for k in range(k_states):
        step[k] = log_start[k] + log_b[0, k]
    out[0] = step - _log_sum_exp(step)
    for t in range(1, n):
        for j in range(k_states):
            for i in range(k_states):
                terms[i] = out[t - 1, i] + log_trans[i, j]
            step[j] = _log_sum_exp(terms) + log_b[t, j]
        out[t] = step - _log_sum_exp(step)
    return out


@njit(cache=True)
def backward(log_b: FloatArray, log_trans: FloatArray) -> FloatArray:  # pragma: no cover
    """Return the scaled log backward messages (each row normalised to sum to one)."""
    n, k_states = log_b.shape
    out = np.zeros((n, k_states))
    terms = np.empty(k_states)
    for t in range(n - 2, -1, -1):
        for i in range(k_states):
            for j in range(k_states):
                terms[j] = log_trans[i, j] + log_b[t + 1, j] + out[t + 1, j]
            out[t, i] = _log_sum_exp(terms)
        out[t] = out[t] - _log_sum_exp(out[t])
    return out


def posteriors(
    log_b: FloatArray, start: FloatArray, transition: FloatArray, *, smoothed: bool
) -> FloatArray:
    """Return state probabilities per bar: filtered, or smoothed by forward-backward."""
    with np.errstate(divide="ignore"):
        log_start, log_trans = np.log(start), np.log(transition)
    log_alpha = forward(log_b, log_start, log_trans)
    if smoothed:
        log_post = log_alpha + backward(log_b, log_trans)
        log_post -= log_post.max(axis=1, keepdims=True)
        probs = np.exp(log_post)
        out: FloatArray = probs / probs.sum(axis=1, keepdims=True)
        return out
    filtered: FloatArray = np.exp(log_alpha)
    return filtered
