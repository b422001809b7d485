"""Response bodies of the portfolio endpoints: summary, positions, performance, trades.

The fields mirror ``services.trading.views`` (``portfolio_view``, ``position_view``), the
summary extras of ``services.trading.portfolios`` and the performance report of
``services.trading.performance`` exactly. Money is a decimal string, dollars; ratios and
returns are numbers (fractions: 0.0123 = 1.23 %), null where undefined.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.orders_out import (
    Id,
    MoneyText,
    OptionalId,
    OptionalMoneyText,
    OptionalTimestamp,
    OrderSide,
    QuantityText,
    Timestamp,
)

Ratio = Annotated[
    float | None,
    Field(description="A fraction (0.0123 = 1.23 %), or null where undefined.", examples=[0.0123]),
]
IsoDate = Annotated[
    str,
    Field(
        description="A calendar date (ISO 8601).",
        examples=["2026-11-18"],
        json_schema_extra={"format": "date"},
    ),
]

_PORTFOLIO: dict[str, Any] = {
    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "name": "Paper",
    "type": "paper",
    "currency": "USD",
    "starting_cash": "100000",
    "cash": "96962.85",
    "margin_multiplier": 1,
    "shorting_enabled": False,
    "account_type": "cash",
    "realized_pl": "0",
    "created_at": "2026-11-18T16:00:00+00:00",
    "reset_at": None,
    "equity": "99999.9",
    "buying_power": "96922.35",
    "long_market_value": "3037.05",
    "short_market_value": "0",
    "initial_margin": "0",
    "maintenance_margin": "0",
    "multiplier": "1",
    "reserved_for_orders": "40.5",
    "position_count": 3,
    "day_pl": "25.03",
    "day_pl_unavailable": [],
    "total_pl": "-0.10",
    "total_plpc": -1e-06,
    "version": 6,
}


class PortfolioOut(BaseModel):
    """A portfolio with Alpaca's account figures and its day and total P&L."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PORTFOLIO]})

    id: Id
    name: str = Field(examples=["Paper"])
    type: Literal["paper", "live"] = Field(examples=["paper"])
    currency: str = Field(examples=["USD"])
    starting_cash: MoneyText = Field(
        description="Cash at creation or the last reset: a decimal string, dollars.",
        examples=["100000"],
    )
    cash: MoneyText = Field(examples=["96962.85"])
    margin_multiplier: Literal[1, 2, 4] = Field(
        description="1 for a cash account, 2 or 4 for margin.", examples=[1]
    )
    shorting_enabled: bool = Field(examples=[False])
    account_type: Literal["cash", "margin"] = Field(examples=["cash"])
    realized_pl: MoneyText = Field(
        description="Realized P&L since the last reset: a decimal string, dollars.",
        examples=["0"],
    )
    created_at: Timestamp
    reset_at: OptionalTimestamp
    equity: MoneyText = Field(
        description="Cash plus positions' market value: a decimal string, dollars.",
        examples=["99999.9"],
    )
    buying_power: MoneyText = Field(examples=["96922.35"])
    long_market_value: MoneyText = Field(examples=["3037.05"])
    short_market_value: MoneyText = Field(
        description="Market value of short positions (zero or negative): a decimal string, "
        "dollars.",
        examples=["0"],
    )
    initial_margin: MoneyText = Field(examples=["0"])
    maintenance_margin: MoneyText = Field(examples=["0"])
    multiplier: str = Field(
        description="The margin multiplier as a string, as Alpaca sends it.", examples=["1"]
    )
    reserved_for_orders: MoneyText = Field(
        description="What the open orders would spend if they filled: a decimal string, dollars.",
        examples=["40.5"],
    )
    position_count: int = Field(ge=0, examples=[3])
    day_pl: OptionalMoneyText = Field(
        description="P&L since the previous close: a decimal string, dollars (to the cent); "
        "null when a held symbol's previous close is unavailable (see day_pl_unavailable).",
        examples=["25.03"],
    )
    day_pl_unavailable: list[str] = Field(
        description="Held symbols whose previous close could not be read now.", examples=[[]]
    )
    total_pl: MoneyText = Field(
        description="Equity minus starting cash: a decimal string, dollars (to the cent).",
        examples=["-0.10"],
    )
    total_plpc: float = Field(
        description="total_pl / starting_cash, a fraction.", examples=[-1e-06]
    )
    version: int = Field(description="Bumped by every change to the portfolio.", ge=0, examples=[6])


_POSITION: dict[str, Any] = {
    "symbol": "AAPL",
    "asset_class": "us_equity",
    "qty": "10",
    "side": "long",
    "avg_entry_price": "81.57",
    "market_value": "815.6",
    "cost_basis": "815.7",
    "unrealized_pl": "-0.1",
    "unrealized_plpc": -0.0001225940909648155,
    "unrealized_intraday_pl": "9.5",
    "unrealized_intraday_plpc": 0.011785138320307654,
    "current_price": "81.56",
    "lastday_price": "80.61",
    "change_today": 0.011785138320307654,
    "realized_pl": "0",
    "opened_at": "2026-11-18T16:00:00+00:00",
}


class PositionOut(BaseModel):
    """An open position with Alpaca's fields, valued at the last price.

    The day's figures (``unrealized_intraday_*``, ``lastday_price``, ``change_today``) are
    null when the previous close cannot be read, never zero.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_POSITION]})

    symbol: str = Field(examples=["AAPL"])
    asset_class: str = Field(examples=["us_equity"])
    qty: QuantityText = Field(
        description="Signed quantity (negative for a short): a decimal string.", examples=["10"]
    )
    side: Literal["long", "short"] = Field(examples=["long"])
    avg_entry_price: MoneyText = Field(examples=["81.57"])
    market_value: MoneyText = Field(
        description="qty x current_price, to the cent: a decimal string, dollars.",
        examples=["815.6"],
    )
    cost_basis: MoneyText = Field(examples=["815.7"])
    unrealized_pl: MoneyText = Field(examples=["-0.1"])
    unrealized_plpc: float = Field(
        description="unrealized_pl / |cost_basis|, a fraction.", examples=[-0.000122594]
    )
    unrealized_intraday_pl: OptionalMoneyText = Field(
        description="P&L since the previous close: a decimal string, dollars; null when the "
        "previous close is unavailable.",
        examples=["9.5"],
    )
    unrealized_intraday_plpc: float | None = Field(
        description="A fraction; null when the previous close is unavailable.",
        examples=[0.0117851],
    )
    current_price: MoneyText = Field(examples=["81.56"])
    lastday_price: OptionalMoneyText = Field(
        description="The previous session's close: a decimal string, dollars; null when "
        "unavailable.",
        examples=["80.61"],
    )
    change_today: float | None = Field(
        description="Price change since the previous close, a fraction; null when unavailable.",
        examples=[0.0117851],
    )
    realized_pl: MoneyText = Field(examples=["0"])
    opened_at: Timestamp


# --- performance ----------------------------------------------------------------------------


class EquityPoint(BaseModel):
    """Equity and cash at one session's close (today at the last price)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"date": "2026-11-18", "equity": "99999.9", "cash": "96962.85"}]
        }
    )

    date: IsoDate
    equity: OptionalMoneyText = Field(
        description="A decimal string, dollars (to the cent).", examples=["99999.9"]
    )
    cash: OptionalMoneyText = Field(
        description="A decimal string, dollars (to the cent).", examples=["96962.85"]
    )


class PeriodReturn(BaseModel):
    """The compounded time-weighted return of one period, labelled by its end date."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"date": "2026-11-20", "return": 0.0042}]},
    )

    date: IsoDate
    return_: Ratio = Field(alias="return")


class PeriodReturns(BaseModel):
    """Returns per calendar day, per week (to Friday) and per month."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "daily": [{"date": "2026-11-18", "return": 0.0012}],
                    "weekly": [{"date": "2026-11-20", "return": 0.0012}],
                    "monthly": [{"date": "2026-11-30", "return": 0.0012}],
                }
            ]
        }
    )

    daily: list[PeriodReturn]
    weekly: list[PeriodReturn]
    monthly: list[PeriodReturn]


class PerformanceSummary(BaseModel):
    """Figures of the time-weighted equity curve and of the closed trades.

    Ratios are numbers, null where undefined (a single point has no return, drawdown or
    ratio); the trade money figures are decimal strings, dollars.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total_return": 0.0213,
                    "cagr": 0.1845,
                    "volatility": 0.1532,
                    "sharpe": 1.21,
                    "sortino": 1.74,
                    "max_drawdown": 0.0412,
                    "max_drawdown_duration": 9,
                    "calmar": 4.47,
                    "n_trades": 4,
                    "win_rate": 0.75,
                    "profit_factor": 3.2,
                    "expectancy": "52.10",
                    "average_win": "96.40",
                    "average_loss": "-80.80",
                }
            ]
        }
    )

    total_return: Ratio
    cagr: Ratio
    volatility: Ratio = Field(description="Annualised volatility of daily returns, a fraction.")
    sharpe: float | None = Field(examples=[1.21])
    sortino: float | None = Field(examples=[1.74])
    max_drawdown: Ratio = Field(description="Deepest fall below the peak, a positive fraction.")
    max_drawdown_duration: int | None = Field(
        description="Longest time below a previous peak, in sessions.", examples=[9]
    )
    calmar: float | None = Field(examples=[4.47])
    n_trades: int = Field(ge=0, description="Fills that realized a profit or a loss.", examples=[4])
    win_rate: Ratio
    profit_factor: float | None = Field(
        description="Gross profit / gross loss; null without losses or trades.", examples=[3.2]
    )
    expectancy: OptionalMoneyText = Field(
        description="Mean realized P&L per trade: a decimal string, dollars; null without trades.",
        examples=["52.10"],
    )
    average_win: OptionalMoneyText = Field(
        description="A decimal string, dollars; null without a win.", examples=["96.40"]
    )
    average_loss: OptionalMoneyText = Field(
        description="A decimal string, dollars (negative); null without a loss.",
        examples=["-80.80"],
    )


_RELATIVE: dict[str, Any] = {
    "alpha": 0.021,
    "beta": 0.94,
    "correlation": 0.88,
    "tracking_error": 0.052,
    "information_ratio": 0.41,
    "excess_return": 0.0031,
}


class BenchmarkRelative(BaseModel):
    """The portfolio against the benchmark, on the dates both share."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RELATIVE]})

    alpha: float | None = Field(description="Jensen's annualised alpha.")
    beta: float | None
    correlation: float | None
    tracking_error: Ratio
    information_ratio: float | None
    excess_return: Ratio


class BenchmarkFigures(BaseModel):
    """The benchmark's own figures over the same dates, and the comparison."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total_return": 0.0182,
                    "cagr": 0.155,
                    "volatility": 0.141,
                    "sharpe": 1.05,
                    "sortino": 1.5,
                    "max_drawdown": 0.038,
                    "relative": _RELATIVE,
                }
            ]
        }
    )

    total_return: Ratio
    cagr: Ratio
    volatility: Ratio
    sharpe: float | None
    sortino: float | None
    max_drawdown: Ratio
    relative: BenchmarkRelative


class PerformanceOut(BaseModel):
    """The daily equity curve, period returns, summary ratios and the benchmark comparison."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "equity_curve": [
                        {"date": "2026-11-18", "equity": "99999.9", "cash": "96962.85"}
                    ],
                    "returns": {
                        "daily": [{"date": "2026-11-18", "return": 0.0}],
                        "weekly": [{"date": "2026-11-20", "return": 0.0}],
                        "monthly": [{"date": "2026-11-30", "return": 0.0}],
                    },
                    "summary": {
                        "total_return": None,
                        "cagr": None,
                        "volatility": None,
                        "sharpe": None,
                        "sortino": None,
                        "max_drawdown": None,
                        "max_drawdown_duration": None,
                        "calmar": None,
                        "n_trades": 0,
                        "win_rate": None,
                        "profit_factor": None,
                        "expectancy": None,
                        "average_win": None,
                        "average_loss": None,
                    },
                    "benchmark": {
                        "total_return": None,
                        "cagr": None,
                        "volatility": None,
                        "sharpe": None,
                        "sortino": None,
                        "max_drawdown": 0.0,
                        "relative": {
                            "alpha": None,
                            "beta": None,
                            "correlation": None,
                            "tracking_error": None,
                            "information_ratio": None,
                            "excess_return": None,
                        },
                    },
                    "portfolio_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                    "benchmark_symbol": "SPY",
                    "since": "2026-11-18T16:00:00+00:00",
                }
            ]
        }
    )

    equity_curve: list[EquityPoint]
    returns: PeriodReturns
    summary: PerformanceSummary
    benchmark: BenchmarkFigures
    portfolio_id: Id
    benchmark_symbol: str = Field(examples=["SPY"])
    since: Timestamp = Field(description="Creation or the last reset: the curve's start.")


# --- trades ---------------------------------------------------------------------------------


_TRADE: dict[str, Any] = {
    "id": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b",
    "order_id": "3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10",
    "symbol": "AAPL",
    "side": "buy",
    "qty": "10",
    "price": "81.57",
    "commission": "0",
    "fees": "0",
    "slippage": "0",
    "realized_pl": "0",
    "executed_at": "2026-11-18T16:00:00+00:00",
}


class TradeOut(BaseModel):
    """One execution (fill) of the portfolio."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TRADE]})

    id: Id
    order_id: OptionalId = Field(description="The order filled, or null (e.g. a reset).")
    symbol: str = Field(examples=["AAPL"])
    side: OrderSide
    qty: QuantityText
    price: MoneyText
    commission: MoneyText = Field(examples=["0"])
    fees: MoneyText = Field(
        description="Regulatory fees: a decimal string, dollars.", examples=["0"]
    )
    slippage: MoneyText = Field(examples=["0"])
    realized_pl: MoneyText = Field(examples=["0"])
    executed_at: Timestamp


class TradesPage(BaseModel):
    """One page of executions, newest first, and the total count matching the filters."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_TRADE],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    items: list[TradeOut]
    total: int = Field(ge=0, examples=[1])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
