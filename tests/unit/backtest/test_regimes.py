"""Strategy evidence per regime: the ranking follows the evidence, not a rule of thumb."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.backtest.engine import BacktestConfig, BarArrays
from quantumtrade.backtest.regimes import (
    Candidate,
    candidate_returns,
    default_candidates,
    known_labels,
    rank_by_regime,
)

REGIMES = ("bull", "bear", "sideways")
CONFIG = BacktestConfig(fill_timing="close")


def market(seed: int, n: int = 900) -> tuple[BarArrays, np.ndarray]:
    """Return a random walk and regime labels in blocks of 30 bars, in rotation."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    arrays = BarArrays(close, close * 1.01, close * 0.99, close, np.full(n, 1e6), index=index)
    labels = np.array([REGIMES[(i // 30) % 3] for i in range(n)])
    return arrays, labels


def planted(regime: str, labels: np.ndarray) -> Candidate:
    """A strategy that foresees the next close in ``regime`` and bets against it elsewhere."""

    def signals(arrays: BarArrays) -> np.ndarray:
        up = np.append(np.sign(np.diff(arrays.close)), 0.0)
        return np.where(labels == regime, up, -up).astype(np.int8)

    return Candidate("planted", {}, signals)


def ranking(regime: str) -> dict[str, list[str]]:
    arrays, labels = market(seed=3)
    assert arrays.index is not None
    candidates = [*default_candidates(), planted(regime, labels)]
    returns = candidate_returns(arrays, candidates, CONFIG)
    ranked = rank_by_regime(
        [labels],
        [arrays.index],
        [returns],
        candidates,
        out_of_sample_start=arrays.index[600],
    )
    return {name: [r.strategy for r in recs] for name, recs in ranked.items()}


@pytest.mark.parametrize("regime", REGIMES)
def test_rank_by_regime_recommends_the_planted_strategy_only_where_it_works(regime: str) -> None:
    ranked = ranking(regime)
    assert ranked[regime][0] == "planted"
    for other in set(REGIMES) - {regime}:
        assert ranked[other][-1] == "planted"


def test_rank_by_regime_reports_out_of_sample_evidence() -> None:
    arrays, labels = market(seed=3)
    assert arrays.index is not None
    candidates = [Candidate("sma_crossover", {"fast": 5, "slow": 20}), planted("bull", labels)]
    returns = candidate_returns(arrays, candidates, CONFIG)
    cut = arrays.index[600]
    ranked = rank_by_regime(
        [labels], [arrays.index], [returns], candidates, out_of_sample_start=cut
    )
    top = ranked["bull"][0]
    assert (top.rank, top.strategy) == (1, "planted")
    # Bars 600-899 are out of sample; bull holds bars 630-659, 720-749 and 810-839, and each
    # bar's return is credited to the label of the bar before: 3 runs of 30 bars.
    known = known_labels(labels)
    expected_bars = int(((known == "bull") & (arrays.index >= cut)).sum())
    assert top.out_of_sample.bars == expected_bars == 90
    assert top.out_of_sample.segments == 3 and top.out_of_sample.symbols == 1
    assert top.out_of_sample.sharpe is not None and top.out_of_sample.sharpe > 5
    assert top.out_of_sample.max_drawdown is not None and top.out_of_sample.max_drawdown < 0.01
    assert top.in_sample.bars == int(((known == "bull") & (arrays.index < cut)).sum())


def test_rank_by_regime_chooses_parameters_in_sample() -> None:
    arrays, labels = market(seed=5)
    assert arrays.index is not None
    # Two parameter sets of one strategy: the planted one works, the other loses, in sample.
    good, bad = planted("bear", labels), planted("bull", labels)
    candidates = [
        Candidate("planted", {"variant": "bad"}, bad.signals),
        Candidate("planted", {"variant": "good"}, good.signals),
    ]
    returns = candidate_returns(arrays, candidates, CONFIG)
    ranked = rank_by_regime(
        [labels], [arrays.index], [returns], candidates, out_of_sample_start=arrays.index[600]
    )
    assert ranked["bear"][0].params == {"variant": "good"}
    assert len(ranked["bear"]) == 1


def test_known_labels_lag_one_bar() -> None:
    assert known_labels(["bull", "bear", "bear"]).tolist() == ["", "bull", "bear"]
    assert known_labels([]).tolist() == []


def test_rank_by_regime_too_few_bars_has_no_sharpe() -> None:
    arrays, labels = market(seed=1, n=60)
    assert arrays.index is not None
    candidates = [Candidate("momentum", {})]
    returns = candidate_returns(arrays, candidates, CONFIG)
    ranked = rank_by_regime(
        [labels], [arrays.index], [returns], candidates, out_of_sample_start=arrays.index[40]
    )
    evidence = ranked["sideways"][0].out_of_sample
    assert evidence.sharpe is None and evidence.bars == 0
