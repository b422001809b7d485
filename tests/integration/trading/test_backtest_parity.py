"""Backtest-live parity: the same bars through the backtester and the paper account.

Scenario: 300 one-minute bars of a seeded random walk (realistic OHLC on the tick grid) in
one New York session, and the ``sma_crossover`` strategy's target positions on their closes.
``run_backtest`` trades them with ``fill_timing="next_open"`` and ``tick_size="us"``, the tick
rule and cent booking of the paper ledger. The paper side is the real
app (its matching engine driven by the test, never by a background task) with the execution
models set to match the backtest config, and a margin portfolio that may short. For each bar
``i`` the test

- sets the clock to the bar's start and feeds, as the market feed publishes them, a quote with
  bid = ask = the open and a trade at the open: the desk fills market orders against that
  quote (a buy at the ask, a sell at the bid, plus slippage);
- sends, while that quote is the freshest, the market orders the backtester sends at that open
  for the target of bar ``i - 1`` (only when the target changes): a close of the position
  held, then an open of the new one. A flip through zero goes as two orders, as the
  backtester books it (exit, then entry, each with its own commission): one order for twice
  the size would pay one clamped commission instead of two, so a per-share minimum would
  differ. Sizes come from the backtester's sizing rule: ``fixed_qty``, or ``fixed_fraction``
  with ``floor(cash * fraction / fill price)`` on the paper cash after the close;
- sets the clock to the bar's last second and feeds the close as the last trade and quote,
  then the 1-minute bar.

Parity means: every backtest trade's entry and exit are paper fills at the same bar, side,
quantity and price; the paper commissions of the two fills add up to the trade's ``fees``,
and the paper realised P&L less those commissions is the trade's ``pnl``; a position open at
the end is the same on both sides; and the backtest equity at the last close equals the paper
portfolio's equity (last price = last close) to the cent, and its cash when the run ends flat.
The cases cover no costs, fixed-bps slippage with a per-share commission whose minimum binds,
and a percentage commission (with its maximum binding on some fills) under fixed-fraction
sizing and on a long-only run; two more trade fills whose notional is not a whole number of
cents (fractional shares, and whole shares at sub-dollar prices quoted to $0.0001), where the
cash each side books for a fill is what is compared.

Stop-loss and take-profit are not compared. The paper equivalent, a bracket order, differs in
ways a faithful feed cannot remove: the backtester's levels are fractions of the entry price
off the tick grid (``entry * (1 - stop_loss)``), while a bracket's stop and limit prices must
be on the grid, so the two trigger at different prices; the backtester fills a stop at the
level itself (or a worse open) whereas a triggered paper stop fills at the quote in force when
the trade arrives, so the test would have to invent an intrabar quote at the stop level, i.e.
write the expected answer into the input; and the backtester's rule that the stop wins when
both levels lie inside one bar is a modelling assumption about an unknown path, with no
counterpart in a feed that delivers one path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from quantumtrade.backtest.engine import BAR_COLUMNS, BacktestConfig, BacktestResult, run_backtest
from quantumtrade.backtest.strategies.trend import SmaCrossoverParams, sma_crossover
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.execution import Side
from support import bearer, register

SYMBOL = "AAPL"
SESSION_START = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)  # a Wednesday, 09:30 in New York
N_BARS = 300
START_CASH = Decimal(100_000)
CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
BAR_CLOSE = timedelta(seconds=59)
FAST, SLOW = 5, 20  # sma_crossover windows, in bars


def dec(value: object) -> Decimal:
    """Read a float price (through its shortest repr) or a money string as an exact decimal."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def cents(value: float) -> Decimal:
    return dec(float(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def tick_price(value: float) -> Decimal:
    """Read a backtest fill price: a float on the tick grid, up to float noise in the last bit.

    The kernel computes ``ticks * 0.01``, which for 10010 ticks is 100.10000000000001, not the
    double nearest 100.10; the grid point it stands for is the nearest tick.
    """
    tick = CENT if value >= 1.0 else SUB_PENNY
    price = dec(float(value)).quantize(tick, rounding=ROUND_HALF_EVEN)
    assert math.isclose(float(price), value, rel_tol=1e-12), f"{value!r} is off the tick grid"
    return price


def on_tick_grid(prices: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Round prices to the US tick: a cent at or above $1, $0.0001 below."""
    cents_ = np.round(prices, 2)
    return np.where(cents_ >= 1.0, cents_, np.round(prices, 4))


def make_bars(start: float = 100.0, seed: int = 20261118, n: int = N_BARS) -> pd.DataFrame:
    """Minute bars of a seeded random walk: opens gap from the previous close, tick prices."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.0015, n)))
    previous = np.concatenate([[start], close[:-1]])
    open_ = previous * (1.0 + rng.normal(0.0, 0.0004, n))
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.0008, n)))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.0008, n)))
    index = pd.date_range(SESSION_START, periods=n, freq="1min", tz="UTC")
    return pd.DataFrame(
        {
            "open": on_tick_grid(open_),
            "high": on_tick_grid(high),
            "low": on_tick_grid(low),
            "close": on_tick_grid(close),
            "volume": rng.integers(1_000, 5_000, n).astype(np.float64),
        },
        index=index,
    )


@dataclass(frozen=True)
class Case:
    """One parity scenario: the backtest config and the paper settings that match it."""

    config: BacktestConfig
    paper: dict[str, Any]
    allow_short: bool = True
    end_flat: bool = False  # force the target to flat two bars from the end
    start_price: float = 100.0


CASES = {
    "no_costs": Case(BacktestConfig(tick_size="us", sizing="fixed_qty", quantity=150.0), {}),
    "slippage_per_share_min": Case(
        BacktestConfig(
            tick_size="us",
            sizing="fixed_qty",
            quantity=150.0,
            slippage_bps=5.0,
            per_share=0.005,
            per_share_min=1.0,
        ),
        {
            "paper_slippage": "fixed_bps",
            "paper_slippage_bps": Decimal(5),
            "paper_commission": "per_share",
            "paper_commission_rate": Decimal("0.005"),
            "paper_commission_min": Decimal(1),
        },
        end_flat=True,
    ),
    "percentage_fixed_fraction": Case(
        BacktestConfig(
            tick_size="us",
            sizing="fixed_fraction",
            fraction=0.5,
            slippage_bps=2.5,
            percentage=0.000405,
            percentage_min=1.0,
            percentage_max=20.0,
        ),
        {
            "paper_slippage": "fixed_bps",
            "paper_slippage_bps": Decimal("2.5"),
            "paper_commission": "percentage",
            "paper_commission_rate": Decimal("0.000405"),
            "paper_commission_min": Decimal(1),
            "paper_commission_max": Decimal(20),
        },
        end_flat=True,
    ),
    "percentage_long_only": Case(
        BacktestConfig(
            tick_size="us", sizing="fixed_qty", quantity=300.0, percentage=0.001, percentage_min=5.0
        ),
        {
            "paper_commission": "percentage",
            "paper_commission_rate": Decimal("0.001"),
            "paper_commission_min": Decimal(5),
        },
        allow_short=False,
    ),
    # Fills whose notional is not a whole number of cents: fractional shares, and whole
    # shares at sub-dollar prices (quoted to $0.0001).
    "fractional_qty": Case(
        BacktestConfig(tick_size="us", sizing="fixed_qty", quantity=7.3), {}, allow_short=False
    ),
    "sub_dollar_prices": Case(
        BacktestConfig(tick_size="us", sizing="fixed_qty", quantity=12_345.0),
        {},
        end_flat=True,
        start_price=0.98,
    ),
}
PARAMS = list(CASES)


def target_positions(bars: pd.DataFrame, case: Case) -> npt.NDArray[np.int8]:
    params = SmaCrossoverParams(fast=FAST, slow=SLOW, allow_short=case.allow_short)
    signals = sma_crossover(bars["close"].to_numpy(dtype=np.float64), params=params)
    if case.end_flat:
        signals[-2:] = 0
    return signals


@dataclass(frozen=True)
class Fill:
    """One execution, as both sides can state it."""

    bar: int
    side: str
    qty: Decimal
    price: Decimal


@dataclass
class PaperFill:
    fill: Fill
    order_id: str
    commission: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    realized_pl: Decimal = Decimal(0)


@dataclass
class PaperRun:
    fills: list[PaperFill] = field(default_factory=list)
    position: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    equity: Decimal = Decimal(0)
    positions: list[dict[str, Any]] = field(default_factory=list)


class PaperAccount:
    """A user's margin portfolio in an app whose market and matching engine the test drives."""

    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FixedClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock
        self.engine = app.state.matching_engine
        self.headers: dict[str, str] = {}
        self.portfolio_id = ""

    async def open(self) -> None:
        user = await register(self.client)
        self.headers = bearer(user["access_token"])
        response = await self.client.post(
            "/api/portfolios",
            json={
                "name": "parity",
                "starting_cash": str(START_CASH),
                "margin_multiplier": 2,
                "shorting_enabled": True,
            },
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        self.portfolio_id = response.json()["id"]

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def market(self, price: float) -> None:
        """Publish what the feed would at this price: a zero-spread quote, then a trade."""
        stamp = self.clock.now().isoformat()
        await self.engine.on_market(
            {
                "type": "quote",
                "symbol": SYMBOL,
                "bid": price,
                "bid_size": 100,
                "ask": price,
                "ask_size": 100,
                "timestamp": stamp,
            }
        )
        await self.engine.on_market(
            {
                "type": "price",
                "symbol": SYMBOL,
                "price": price,
                "size": 100,
                "exchange": "X",
                "timestamp": stamp,
            }
        )

    async def bar(self, start: datetime, ohlcv: Sequence[float]) -> None:
        open_, high, low, close, volume = ohlcv
        await self.engine.on_market(
            {
                "type": "bar",
                "symbol": SYMBOL,
                "timeframe": "1Min",
                "open": open_,
                "high": high,
                "low": low,
                "close": close,
                "volume": volume,
                "vwap": (high + low + close) / 3.0,
                "trade_count": 10,
                "timestamp": start.isoformat(),
            }
        )

    async def cash(self) -> Decimal:
        summary = await self.get(f"/api/portfolios/{self.portfolio_id}")
        return Decimal(summary["cash"])

    async def fill_price(self, side: Side) -> Decimal:
        """The price the desk would fill a market order at now (its quote and models)."""
        quote = await self.engine.desk.quote(SYMBOL)
        priced = self.engine.desk.execution.price(side, quote, Decimal(1))
        assert priced is not None
        price: Decimal = priced[0]
        return price

    async def send(self, bar: int, side: Side, qty: Decimal) -> PaperFill:
        body = {
            "symbol": SYMBOL,
            "side": side.value,
            "type": "market",
            "time_in_force": "day",
            "qty": str(qty),
            "portfolio_id": self.portfolio_id,
        }
        response = await self.client.post("/api/orders", json=body, headers=self.headers)
        assert response.status_code == 201, f"bar {bar}: {response.text}"
        order = response.json()
        await self.engine.load([order["id"]])  # what the engine's notice on trading.orders does
        assert order["status"] == "filled", f"bar {bar}: {order}"
        assert Decimal(order["filled_qty"]) == qty, f"bar {bar}: {order}"
        fill = Fill(bar, side.value, qty, Decimal(order["filled_avg_price"]))
        return PaperFill(fill, order["id"])


async def run_paper(
    make_api: Any, bars: pd.DataFrame, signals: npt.NDArray[np.int8], case: Case
) -> PaperRun:
    """Trade ``signals`` over ``bars`` through the paper account, as the backtester would."""
    config = case.config
    starts: list[datetime] = list(pd.DatetimeIndex(bars.index).to_pydatetime())
    ohlcv: list[list[float]] = bars[list(BAR_COLUMNS)].to_numpy(dtype=np.float64).tolist()
    clock = FixedClock(starts[0])
    settings: dict[str, Any] = {
        "market_feed_enabled": False,
        "paper_matching_enabled": False,
        "risk_monitor_enabled": False,
        "paper_participation": None,
        "paper_random_partial_fills": False,
        "paper_regulatory_fees": False,
        "paper_outside_session": "reject",
        **case.paper,
    }
    run = PaperRun()
    async with make_api(clock=clock, **settings) as (app, client):
        account = PaperAccount(app, client, clock)
        await account.open()
        acted = 0
        for i, (start, bar) in enumerate(zip(starts, ohlcv, strict=True)):
            clock.set(start)
            await account.market(bar[0])
            desired = int(signals[i - 1]) if i > 0 else acted
            if desired != acted:
                acted = desired
                if run.position != 0:
                    side = Side.SELL if run.position > 0 else Side.BUY
                    run.fills.append(await account.send(i, side, abs(run.position)))
                    run.position = Decimal(0)
                if desired != 0:
                    side = Side.BUY if desired > 0 else Side.SELL
                    if config.sizing == "fixed_qty":
                        qty = Decimal(repr(config.quantity))
                    else:
                        cash = await account.cash()
                        price = await account.fill_price(side)
                        qty = (cash * dec(config.fraction) / price).to_integral_value(ROUND_FLOOR)
                    run.fills.append(await account.send(i, side, qty))
                    run.position = qty if desired > 0 else -qty
            clock.set(start + BAR_CLOSE)
            await account.market(bar[3])
            await account.bar(start, bar)
            await account.engine.housekeeping()
        trades = await account.get(f"/api/portfolios/{account.portfolio_id}/trades", limit=500)
        assert trades["total"] == len(run.fills)
        by_order = {item["order_id"]: item for item in trades["items"]}
        for paper in run.fills:
            item = by_order[paper.order_id]
            assert Decimal(item["price"]) == paper.fill.price
            assert Decimal(item["qty"]) == paper.fill.qty
            paper.commission = Decimal(item["commission"])
            paper.fees = Decimal(item["fees"])
            paper.realized_pl = Decimal(item["realized_pl"])
        # Read once, at the end: the summary is cached per portfolio version, and a price move
        # alone does not change the version.
        summary = await account.get(f"/api/portfolios/{account.portfolio_id}")
        run.cash = Decimal(summary["cash"])
        run.equity = Decimal(summary["equity"])
        run.positions = await account.get(f"/api/portfolios/{account.portfolio_id}/positions")
    return run


@dataclass(frozen=True)
class Expected:
    """A backtest fill: ``trade`` is its row in ``result.trades``; ``exit`` if it closes it."""

    fill: Fill
    trade: int
    exit: bool


def backtest_fills(result: BacktestResult) -> list[Expected]:
    """The backtest trades as fills in time order (at one open, an exit before an entry)."""
    rows: list[tuple[int, int, Expected]] = []
    for k, trade in enumerate(result.trades.to_dict("records")):
        qty = dec(float(trade["qty"]))
        entry_side, exit_side = ("buy", "sell") if trade["side"] == 1 else ("sell", "buy")
        entry_bar, exit_bar = int(trade["entry_index"]), int(trade["exit_index"])
        entry = Fill(entry_bar, entry_side, qty, tick_price(float(trade["entry_price"])))
        exit_ = Fill(exit_bar, exit_side, qty, tick_price(float(trade["exit_price"])))
        rows.append((entry_bar, 1, Expected(entry, k, exit=False)))
        rows.append((exit_bar, 0, Expected(exit_, k, exit=True)))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows]


def fill_mismatches(
    bars: pd.DataFrame, expected: Sequence[Expected], paper: Sequence[PaperFill]
) -> list[str]:
    problems = []
    for n, (want, got) in enumerate(zip(expected, paper, strict=False)):
        if want.fill != got.fill:
            when = bars.index[want.fill.bar]
            problems.append(f"fill {n} ({when:%H:%M}): backtest {want.fill} vs paper {got.fill}")
    return problems


def trade_mismatches(
    result: BacktestResult, expected: Sequence[Expected], paper: Sequence[PaperFill]
) -> list[str]:
    """Compare each closed trade's fees and net P&L with its two paper fills."""
    legs: dict[int, dict[bool, PaperFill]] = {}
    for want, got in zip(expected, paper, strict=False):
        legs.setdefault(want.trade, {})[want.exit] = got
    problems = []
    for k, trade in enumerate(result.trades.to_dict("records")):
        entry, exit_ = legs[k][False], legs[k][True]
        fees = entry.commission + entry.fees + exit_.commission + exit_.fees
        pnl = exit_.realized_pl - fees
        want_fees, want_pnl = float(trade["fees"]), float(trade["pnl"])
        if fees != cents(want_fees) or abs(pnl - dec(want_pnl)) > Decimal("1e-6"):
            problems.append(
                f"trade {k} (bars {trade['entry_index']}->{trade['exit_index']}): backtest fees "
                f"{want_fees:.2f} pnl {want_pnl:.4f} vs paper fees {fees} "
                f"(entry {entry.commission}, exit {exit_.commission}) pnl {pnl}"
            )
    return problems


@pytest.mark.parametrize("name", PARAMS)
async def test_backtest_and_paper_trading_agree(make_api: Any, name: str) -> None:
    case = CASES[name]
    bars = make_bars(case.start_price)
    signals = target_positions(bars, case)
    result = run_backtest(bars, signals, case.config)
    expected = backtest_fills(result)
    assert len(result.trades) >= 6, "the scenario should trade"
    if case.allow_short:
        assert (result.trades["side"] == -1).any(), "the scenario should go short"
        flips = result.trades["exit_index"].isin(result.trades["entry_index"])
        assert flips.any(), "the scenario should flip through zero"

    paper = await run_paper(make_api, bars, signals, case)

    assert len(paper.fills) >= len(expected), "the paper account traded less"
    assert fill_mismatches(bars, expected, paper.fills) == []
    assert trade_mismatches(result, expected, paper.fills) == []
    held = result.positions.to_numpy(dtype=np.float64)
    final_position = float(held[-1])
    extra = paper.fills[len(expected) :]
    if final_position == 0.0:
        assert extra == [] and paper.positions == []
        backtest_cash = float(result.equity.to_numpy()[-1])
        assert paper.cash == cents(backtest_cash), f"cash: backtest {backtest_cash!r}"
    else:
        # The open position is not a backtest trade: its entry is the last paper fill.
        assert len(extra) == 1
        assert dec(final_position) == paper.position
        [position] = paper.positions
        assert Decimal(position["qty"]) == paper.position
        assert Decimal(position["avg_entry_price"]) == extra[0].fill.price
        assert extra[0].fill.bar == int(np.flatnonzero(np.diff(held))[-1]) + 1
    backtest_equity = float(result.equity.to_numpy()[-1])
    assert paper.equity == cents(backtest_equity), f"equity: backtest {backtest_equity!r}"
    assert math.isclose(float(paper.equity), backtest_equity, abs_tol=1e-6)
