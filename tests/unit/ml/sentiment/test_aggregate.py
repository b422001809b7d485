"""Decayed sentiment, the fear-and-greed index and the information coefficient."""

from __future__ import annotations

import numpy as np
import pytest

from quantumtrade.ml.sentiment.aggregate import (
    DEFAULT_HALF_LIFE_NS,
    HOUR_NS,
    decayed_sentiment,
    fear_greed,
    information_coefficient,
)


def test_an_item_counts_half_after_one_half_life() -> None:
    times = np.array([0, DEFAULT_HALF_LIFE_NS])
    out = decayed_sentiment(times, [1.0, -1.0], [DEFAULT_HALF_LIFE_NS])
    # Weights 0.5 (older, +1) and 1 (fresh, -1): (0.5 - 1) / 1.5.
    assert out.score[0] == pytest.approx(-1 / 3)
    assert out.weight[0] == pytest.approx(1.5)


def test_the_signal_is_causal_and_unsorted_input_is_fine() -> None:
    rng = np.random.default_rng(3)
    times = rng.integers(0, 400 * HOUR_NS, 300)
    scores = rng.uniform(-1, 1, 300)
    at = np.arange(0, 400 * HOUR_NS, 7 * HOUR_NS)
    full = decayed_sentiment(times, scores, at)
    cut = 200 * HOUR_NS
    keep = times <= cut
    early = decayed_sentiment(times[keep], scores[keep], at[at <= cut])
    np.testing.assert_allclose(full.score[at <= cut], early.score)
    assert np.isnan(decayed_sentiment(times, scores, [int(times.min()) - 1]).score[0])


def test_years_of_items_do_not_overflow_and_match_a_direct_sum() -> None:
    rng = np.random.default_rng(4)
    span = 5 * 365 * 24 * HOUR_NS
    times = np.sort(rng.integers(0, span, 2000))
    scores = rng.uniform(-1, 1, 2000)
    at = rng.integers(0, span, 50)
    out = decayed_sentiment(times, scores, at)
    for j, q in enumerate(at):
        w = np.where(times <= q, 0.5 ** (np.clip(q - times, 0, None) / DEFAULT_HALF_LIFE_NS), 0.0)
        if w.sum() > 1e-9:
            assert out.score[j] == pytest.approx((w * scores).sum() / w.sum(), abs=1e-6)
    assert np.all(np.isfinite(out.baseline[np.isfinite(out.score)]))


def test_count_and_change_against_the_baseline() -> None:
    day = 24 * HOUR_NS
    # A month of mild praise, then a burst of bad news.
    times = np.concatenate([np.arange(30) * day, 30 * day + np.arange(5) * HOUR_NS])
    scores = np.concatenate([np.full(30, 0.3), np.full(5, -0.9)])
    out = decayed_sentiment(times, scores, [30 * day + 5 * HOUR_NS])
    assert out.count[0] == 5
    assert out.score[0] < -0.5 < out.baseline[0] + 0.5
    assert out.change[0] < -0.5


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="one length"):
        decayed_sentiment([1, 2], [0.1], [3])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        decayed_sentiment([1], [1.5], [3])


def test_fear_greed_ranks_each_component_against_its_own_history() -> None:
    calm = np.linspace(0.1, 0.3, 100)
    greedy = fear_greed(
        {
            "breadth": np.append(np.linspace(0.2, 0.6, 99), 0.9),  # best breadth of the history
            "implied_volatility": np.append(calm[:-1], 0.05),  # lowest volatility seen
        }
    )
    assert greedy.index is not None and greedy.index > 95
    assert greedy.label == "extreme greed"
    fearful = fear_greed({"put_call": np.append(np.full(99, 0.7), 1.6)})
    assert fearful.index is not None and fearful.index < 5
    short = fear_greed({"news_tone": [0.1, 0.2], "breadth": np.append(calm, 0.2)})
    assert [c.name for c in short.components] == ["breadth", "news_tone"]
    assert short.components[1].score is None  # two points are not a history
    with pytest.raises(ValueError, match="unknown"):
        fear_greed({"astrology": [1.0]})


def test_the_ic_finds_a_planted_signal_and_no_edge_in_noise() -> None:
    rng = np.random.default_rng(5)
    signal = rng.standard_normal(3000)
    planted = information_coefficient(signal, 0.1 * signal + rng.standard_normal(3000))
    assert planted.significant and planted.low < 0.1 < planted.high
    noise = information_coefficient(signal, rng.standard_normal(3000))
    assert not noise.significant
    assert noise.low < 0 < noise.high
