"""With costs off, the engine agrees with an independent plain-NumPy backtest of the same rules.

The peer below is written from the rules a user would code in any tool (a loop over bars, no
code shared with the engine): SMA(fast) and SMA(slow) from NumPy window sums, long when the
fast one crosses above the slow one, flat or short when it crosses below; orders at the next
bar's open; sizing all-in (``cash / price``) in whole shares (rounded down) or fractional (down
to 1e-9 shares); cash moves by exactly ``qty * price``; equity is cash plus the position at
each close. Vectorbt, backtesting.py and backtrader follow the same arithmetic, so agreeing
with the peer is agreeing with them (``benchmarks/bench_vectorbt.py`` checks vectorbt).

The bars are quoted to four decimals, off the cent grid, as minute files are: any rounding the
engine added to a fill price or to cash would show. The trade lists (bars, sides, prices,
quantities) and the equity must match to 1e-9 relative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from quantumtrade.backtest.engine import BacktestConfig, BacktestResult, run_backtest, run_strategy
from quantumtrade.backtest.strategies.trend import SmaCrossoverParams, sma_crossover

FAST, SLOW = 10, 30
RTOL = 1e-9


def quoted_bars(seed: int, n: int = 6_000) -> pd.DataFrame:
    """A seeded random walk of minute bars, every price quoted to $0.0001."""
    rng = np.random.default_rng(seed)
    close = np.round(50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n))), 4)
    open_ = np.round(np.r_[close[0], close[:-1]] * (1 + rng.normal(0.0, 0.0005, n)), 4)
    spread = np.abs(rng.normal(0.0, 0.001, n)) * close
    high = np.round(np.maximum(open_, close) + spread, 4)
    low = np.round(np.minimum(open_, close) - spread, 4)
    index = pd.date_range("2024-01-02 14:30", periods=n, freq="min", tz="UTC")
    volume = np.full(n, 1_000.0)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def peer_signals(close: npt.NDArray[np.float64], allow_short: bool) -> npt.NDArray[np.int8]:
    fast = sliding_window_view(close, FAST).mean(axis=1)[SLOW - FAST :]
    slow = sliding_window_view(close, SLOW).mean(axis=1)
    diff = fast - slow  # aligned on bars SLOW - 1 onwards
    out = np.zeros(close.size, dtype=np.int8)
    state, prev = 0, math.nan
    for j, d in enumerate(diff):
        if prev <= 0.0 and d > 0.0:
            state = 1
        elif prev >= 0.0 and d < 0.0:
            state = -1 if allow_short else 0
        out[SLOW - 1 + j] = state
        prev = d
    return out


@dataclass
class PeerRun:
    trades: list[tuple[int, int, int, float, float, float]]  # entry, exit, side, qty, in, out
    equity: npt.NDArray[np.float64]


def peer_backtest(
    bars: pd.DataFrame, signals: npt.NDArray[np.int8], cash: float, fractional: bool
) -> PeerRun:
    opens = bars["open"].to_numpy()
    closes = bars["close"].to_numpy()
    trades: list[tuple[int, int, int, float, float, float]] = []
    equity = np.empty(len(bars))
    side, qty, entry_bar, entry_price, held = 0, 0.0, 0, 0.0, 0
    for i in range(len(bars)):
        wanted = int(signals[i - 1]) if i > 0 else 0
        if wanted != held:
            held = wanted
            price = opens[i]
            if side != 0:
                cash += side * qty * price
                trades.append((entry_bar, i, side, qty, entry_price, price))
                side, qty = 0, 0.0
            if wanted != 0:
                size = cash / price
                size = math.floor(size * 1e9) / 1e9 if fractional else float(math.floor(size))
                if size > 0:
                    cash -= wanted * size * price
                    side, qty, entry_bar, entry_price = wanted, size, i, price
        equity[i] = cash + side * qty * closes[i]
    return PeerRun(trades, equity)


def engine_trades(result: BacktestResult) -> list[tuple[int, int, int, float, float, float]]:
    frame = result.trades
    return [
        (int(a), int(b), int(c), float(d), float(e), float(f))
        for a, b, c, d, e, f in zip(
            frame["entry_index"],
            frame["exit_index"],
            frame["side"],
            frame["qty"],
            frame["entry_price"],
            frame["exit_price"],
            strict=True,
        )
    ]


@pytest.mark.parametrize("seed", [1, 7, 42])
@pytest.mark.parametrize("allow_short", [False, True], ids=["long_only", "long_short"])
@pytest.mark.parametrize("fractional", [True, False], ids=["fractional_all_in", "whole_shares"])
def test_costs_off_the_engine_agrees_with_a_plain_numpy_backtest(
    seed: int, allow_short: bool, fractional: bool
) -> None:
    bars = quoted_bars(seed)
    close = bars["close"].to_numpy()
    signals = peer_signals(close, allow_short)
    params = SmaCrossoverParams(fast=FAST, slow=SLOW, allow_short=allow_short)
    np.testing.assert_array_equal(sma_crossover(close, params=params), signals)

    config = BacktestConfig(initial_cash=27_000.0, sizing="all_in", fractional=fractional)
    ours = run_strategy(bars, "sma_crossover", params.__dict__, config)
    peer = peer_backtest(bars, signals, 27_000.0, fractional)

    mine = engine_trades(ours)
    assert len(mine) == len(peer.trades) > 50
    for got, want in zip(mine, peer.trades, strict=True):
        assert got[:3] == want[:3]
        assert got[4:] == want[4:]  # fills at the bar's open exactly: no tick rounding
        assert got[3] == pytest.approx(want[3], rel=RTOL)
    np.testing.assert_allclose(ours.equity.to_numpy(), peer.equity, rtol=RTOL, atol=0.0)
    assert ours.equity.iloc[-1] == pytest.approx(peer.equity[-1], rel=RTOL)
    if not fractional:
        assert all(q == math.floor(q) for q in ours.trades["qty"])


def test_us_ticks_put_fills_on_the_grid_against_the_trader() -> None:
    bars = quoted_bars(3, n=2_000)
    signals = peer_signals(bars["close"].to_numpy(), allow_short=True)
    exact = run_backtest(bars, signals, BacktestConfig(sizing="all_in"))
    ticked = run_backtest(bars, signals, BacktestConfig(sizing="all_in", tick_size="us"))
    assert exact.trades[["entry_index", "exit_index", "side"]].equals(
        ticked.trades[["entry_index", "exit_index", "side"]]
    )
    buys_in = ticked.trades["side"] == 1
    entry, exit_ = ticked.trades["entry_price"], ticked.trades["exit_price"]
    # Every price is on the cent grid (prices are above $1 here).
    for price in pd.concat([entry, exit_]):
        assert round(price * 100) == pytest.approx(price * 100, abs=1e-6)
    # A buy pays the open rounded up, a sell gets it rounded down, never better.
    buy_price, sell_price = entry.where(buys_in, exit_), exit_.where(buys_in, entry)
    opens_in, opens_out = exact.trades["entry_price"], exact.trades["exit_price"]
    buy_ref, sell_ref = opens_in.where(buys_in, opens_out), opens_out.where(buys_in, opens_in)
    assert (buy_price >= buy_ref - 1e-12).all() and (buy_price - buy_ref < 0.01).all()
    assert (sell_price <= sell_ref + 1e-12).all() and (sell_ref - sell_price < 0.01).all()
    assert ticked.equity.iloc[-1] < exact.equity.iloc[-1]


def test_a_fixed_tick_rounds_to_its_own_grid() -> None:
    bars = quoted_bars(5, n=2_000)
    signals = peer_signals(bars["close"].to_numpy(), allow_short=False)
    result = run_backtest(bars, signals, BacktestConfig(sizing="all_in", tick_size=0.05))
    prices = pd.concat([result.trades["entry_price"], result.trades["exit_price"]])
    assert len(prices) > 0
    assert np.allclose(np.round(prices / 0.05) * 0.05, prices, atol=1e-9)


def test_ticks_change_nothing_on_data_already_on_the_grid() -> None:
    bars = quoted_bars(11, n=2_000)
    bars[["open", "high", "low", "close"]] = bars[["open", "high", "low", "close"]].round(2)
    signals = peer_signals(bars["close"].to_numpy(), allow_short=True)
    exact = run_backtest(bars, signals, BacktestConfig(sizing="all_in"))
    ticked = run_backtest(bars, signals, BacktestConfig(sizing="all_in", tick_size="us"))
    pd.testing.assert_frame_equal(exact.trades, ticked.trades, rtol=0, atol=1e-9)
    np.testing.assert_allclose(exact.equity.to_numpy(), ticked.equity.to_numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "tick", ["cents", 0.0, -0.01, True, math.inf], ids=["word", "zero", "negative", "bool", "inf"]
)
def test_a_bad_tick_size_is_refused(tick: object) -> None:
    with pytest.raises(ValueError, match="tick_size"):
        BacktestConfig(tick_size=tick)  # type: ignore[arg-type]
