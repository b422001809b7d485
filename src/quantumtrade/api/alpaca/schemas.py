"""Request and response bodies of the Alpaca-compatible trading API (Alpaca's field names).

Requests ignore fields they do not know, as Alpaca does, so a bot written for a newer SDK
still gets through; money and quantities in answers are decimal strings, as Alpaca sends.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from quantumtrade.api.schemas.common import StrictModel
from quantumtrade.api.schemas.trading import Notional, Percent, Price, Quantity

TimeInForceIn = Literal["day", "gtc", "ioc", "fok", "opg", "cls"]


class _Lenient(StrictModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AlpacaTakeProfitIn(_Lenient):
    limit_price: Price


class AlpacaStopLossIn(_Lenient):
    stop_price: Price
    limit_price: Price | None = None


class AlpacaOrderRequest(_Lenient):
    """An order as Alpaca's ``POST /v2/orders`` takes it: ``qty`` or ``notional``."""

    symbol: str = Field(min_length=1, max_length=20, examples=["AAPL"])
    side: Literal["buy", "sell"]
    type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"] = "market"
    time_in_force: TimeInForceIn = "day"
    qty: Quantity | None = Field(default=None, gt=0)
    notional: Notional | None = Field(default=None, gt=0)
    limit_price: Price | None = None
    stop_price: Price | None = None
    trail_price: Price | None = None
    trail_percent: Percent | None = None
    extended_hours: StrictBool = False
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)
    order_class: Literal["simple", "bracket", "oco", "oto", "mleg", ""] = "simple"
    take_profit: AlpacaTakeProfitIn | None = None
    stop_loss: AlpacaStopLossIn | None = None
    position_intent: str | None = Field(
        default=None, max_length=20, description="Accepted and ignored."
    )
    legs: list[dict[str, Any]] | None = Field(
        default=None, max_length=4, description="Multi-leg options orders: not supported (422)."
    )


class AlpacaReplaceRequest(_Lenient):
    """What ``PATCH /v2/orders/{id}`` changes; the rest is copied from the order replaced."""

    qty: Quantity | None = Field(default=None, gt=0)
    time_in_force: TimeInForceIn | None = None
    limit_price: Price | None = None
    stop_price: Price | None = None
    trail: Price | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class AlpacaOrderOut(_Out):
    """Alpaca's order object."""

    id: str
    client_order_id: str
    created_at: str
    updated_at: str
    submitted_at: str
    filled_at: str | None
    expired_at: str | None
    canceled_at: str | None
    failed_at: str | None
    replaced_at: str | None
    replaced_by: str | None
    replaces: str | None
    asset_id: str
    symbol: str
    asset_class: str
    notional: str | None
    qty: str | None
    filled_qty: str
    filled_avg_price: str | None
    order_class: str
    order_type: str
    type: str
    side: str
    time_in_force: str
    limit_price: str | None
    stop_price: str | None
    status: str
    extended_hours: bool
    legs: list[AlpacaOrderOut] | None
    trail_percent: str | None
    trail_price: str | None
    hwm: str | None


class AlpacaCancelOut(_Out):
    """One order of ``DELETE /v2/orders``: its id, the HTTP status of its cancel, a body."""

    id: str
    status: int
    body: dict[str, Any] | None = None


class AlpacaClosedPositionOut(_Out):
    """One position of ``DELETE /v2/positions``: its symbol, status and the closing order."""

    symbol: str
    status: int
    order_id: str | None = None
    body: dict[str, Any]


class AlpacaAccountOut(_Out):
    id: str
    account_number: str
    status: str
    currency: str
    buying_power: str
    cash: str
    equity: str
    portfolio_value: str
    last_equity: str
    multiplier: str


class AlpacaPositionOut(_Out):
    asset_id: str
    symbol: str
    exchange: str
    asset_class: str
    avg_entry_price: str
    qty: str
    side: Literal["long", "short"]
    market_value: str
    cost_basis: str
    unrealized_pl: str
    current_price: str


class AlpacaAssetOut(_Out):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    class_: str = Field(alias="class")
    exchange: str
    symbol: str
    name: str
    status: str
    tradable: bool
    marginable: bool
    shortable: bool
    easy_to_borrow: bool
    fractionable: bool


class AlpacaClockOut(_Out):
    timestamp: str
    is_open: bool
    next_open: str
    next_close: str


class AlpacaCalendarOut(_Out):
    date: str = Field(examples=["2026-11-18"])
    open: str = Field(examples=["09:30"])
    close: str = Field(examples=["16:00"])
    session_open: str = Field(examples=["0400"])
    session_close: str = Field(examples=["2000"])
    settlement_date: str = Field(examples=["2026-11-19"])


class AlpacaActivityOut(_Out):
    id: str
    account_id: str
    activity_type: str


class AlpacaPortfolioHistoryOut(_Out):
    timestamp: list[int]
    equity: list[float]
    profit_loss: list[float]
    profit_loss_pct: list[float | None]
    base_value: float | None
    timeframe: str


class AlpacaWatchlistIn(_Lenient):
    """A new watchlist: a name unique in the account and its symbols, in order."""

    name: str = Field(min_length=1, max_length=64, examples=["tech"])
    symbols: list[str] = Field(default_factory=list, max_length=1000, examples=[["AAPL", "MSFT"]])


class AlpacaWatchlistUpdate(_Lenient):
    """A rename and/or the symbols that replace the list's (what is left out stays)."""

    name: str | None = Field(default=None, min_length=1, max_length=64, examples=["tech"])
    symbols: list[str] | None = Field(default=None, max_length=1000, examples=[["AAPL", "NVDA"]])


class AlpacaWatchlistSymbol(_Lenient):
    symbol: str = Field(min_length=1, max_length=20, examples=["NVDA"])


class AlpacaWatchlistOut(_Out):
    """Alpaca's watchlist; ``assets`` is left out of the list of all watchlists, as Alpaca does."""

    id: str
    account_id: str
    name: str = Field(examples=["tech"])
    created_at: str
    updated_at: str
    assets: list[AlpacaAssetOut] | None = None


class AlpacaConfigurationsIn(_Lenient):
    """Alpaca's account configurations, as ``PATCH`` takes them (what is left out stays).

    ``no_shorting`` and ``max_margin_multiplier`` change the portfolio; every other field is
    accepted at the value ``GET`` answers (so a bot can send back what it read) and refused
    otherwise.
    """

    no_shorting: StrictBool | None = Field(default=None, examples=[True])
    max_margin_multiplier: Literal["1", "2", "4"] | None = Field(default=None, examples=["2"])
    dtbp_check: str | None = None
    pdt_check: str | None = None
    trade_confirm_email: str | None = None
    suspend_trade: StrictBool | None = None
    fractional_trading: StrictBool | None = None
    ptp_no_exception_entry: StrictBool | None = None
    max_options_trading_level: int | None = None


class AlpacaConfigurationsOut(_Out):
    dtbp_check: str = Field(examples=["entry"])
    fractional_trading: bool
    max_margin_multiplier: str = Field(examples=["1"])
    no_shorting: bool
    pdt_check: str = Field(examples=["entry"])
    suspend_trade: bool
    trade_confirm_email: str = Field(examples=["none"])
    ptp_no_exception_entry: bool
    max_options_trading_level: int
