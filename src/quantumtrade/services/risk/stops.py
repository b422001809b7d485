"""Stop-loss suggestions for a symbol: percent, ATR and volatility stops with sizing.

Conventions as in :mod:`quantumtrade.services.risk.analytics`: fractions for percentages,
plain floats (None, never NaN) in the answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from quantumtrade.domain import indicators, risk
from quantumtrade.services.risk.analytics import _daily_bars, _num, _refuse, _require
from quantumtrade.services.trading.desk import TradingDesk

STOP_FIELDS = "stop take_profit risk_per_unit qty whole_qty notional notional_pct_of_equity note"


def _sized(
    entry: float, stop: float, side: risk.PositionSide, equity: float | None, **budget: float
) -> dict[str, Any]:
    """Return the take-profit and the fixed-fraction size of one stop."""
    view: dict[str, Any] = {"stop": stop, "risk_per_unit": abs(entry - stop)}
    view["take_profit"] = risk.take_profit(entry, stop, budget["reward_risk"], side)
    if equity is not None:
        qty = risk.position_size_fixed_fraction(equity, budget["risk_fraction"], entry, stop)
        view |= {"qty": qty, "whole_qty": math.floor(qty), "notional": qty * entry}
        view["notional_pct_of_equity"] = qty * entry / equity
        if qty * entry > equity:
            view["note"] = "The notional exceeds equity: the stop is tight for this risk budget."
    return view


async def stop_suggestion(
    desk: TradingDesk,
    *,
    symbol: str,
    side: risk.PositionSide,
    entry: float | None = None,
    equity: float | None = None,
    risk_fraction: float = 0.01,
    reward_risk: float = 2.0,
    stop_pct: float = 0.05,
    atr_multiple: float = 2.0,
    atr_period: int = 14,
    volatility_multiple: float = 2.0,
    volatility_window: int = 20,
    win_rate: float | None = None,
    win_loss_ratio: float | None = None,
    kelly_cap: float = 0.25,
) -> dict[str, Any]:
    """Suggest percent, ATR and volatility stops with take-profits and fixed-fraction sizes.

    The entry defaults to the last price. ATR is Wilder's over ``atr_period`` completed daily
    sessions; the daily volatility is the standard deviation (ddof=1) of the last
    ``volatility_window`` simple daily returns. A size risks ``equity * risk_fraction`` if the
    stop is hit and is unrounded (``whole_qty`` rounds down). Kelly needs both ``win_rate`` and
    ``win_loss_ratio``; its fraction is floored at 0 and capped at ``kelly_cap``.
    """
    info = desk.symbol_info(symbol)
    _require(side in ("long", "short"), "side must be long or short.")
    for name, given in (("entry", entry), ("equity", equity)):
        _require(given is None or (math.isfinite(given) and given > 0.0), f"{name} must be > 0.")
    _require(0.0 < risk_fraction <= 1.0, "risk_fraction must lie in (0, 1].")
    _require(reward_risk > 0.0, "reward_risk must be > 0.")
    _require(atr_period >= 1, "atr_period must be >= 1.")
    _require(volatility_window >= 2, "volatility_window must be >= 2.")
    _require(
        (win_rate is None) == (win_loss_ratio is None),
        "Kelly sizing needs both win_rate and win_loss_ratio.",
        "invalid_kelly",
    )
    now = desk.container.clock.now()
    price = entry if entry is not None else float(await desk.last_price(info.symbol))
    bars = await _daily_bars(desk, info.symbol, max(atr_period, volatility_window) + 1, now)
    high, low, close = (bars[c].to_numpy(dtype=np.float64) for c in ("high", "low", "close"))
    atr = daily_vol = math.nan
    if close.size > atr_period:
        atr = float(indicators.atr(high, low, close, atr_period)[-1])
    if close.size > volatility_window:
        tail = close[-(volatility_window + 1) :]
        daily_vol = float(np.std(tail[1:] / tail[:-1] - 1.0, ddof=1))
    methods: list[tuple[str, dict[str, Any], float, Callable[[], float]]] = [
        ("percent", {"pct": stop_pct}, stop_pct, lambda: risk.percent_stop(price, stop_pct, side)),
        (
            "atr",
            {"multiple": atr_multiple, "period": atr_period, "atr": _num(atr)},
            atr,
            lambda: risk.atr_stop(price, atr, atr_multiple, side),
        ),
        (
            "volatility",
            {"multiple": volatility_multiple, "window": volatility_window}
            | {"daily_volatility": _num(daily_vol)},
            daily_vol,
            lambda: risk.volatility_stop(price, daily_vol, volatility_multiple, side),
        ),
    ]
    stops = []
    budget = {"reward_risk": reward_risk, "risk_fraction": risk_fraction}
    for method, params, needed, compute in methods:
        view: dict[str, Any] = {"method": method, **params, **dict.fromkeys(STOP_FIELDS.split())}
        if not math.isfinite(needed):
            view["note"] = f"Not enough daily history ({close.size} completed sessions)."
        else:
            try:
                view |= _sized(price, compute(), side, equity, **budget)
            except ValueError as exc:  # e.g. a long stop that would sit at or below zero
                view["note"] = str(exc)
        stops.append(view)
    kelly = None
    if win_rate is not None and win_loss_ratio is not None:
        try:
            fraction = risk.kelly_fraction(win_rate, win_loss_ratio, kelly_cap)
        except ValueError as exc:
            raise _refuse(f"{exc}.", "invalid_kelly") from exc
        kelly = {
            "win_rate": win_rate,
            "win_loss_ratio": win_loss_ratio,
            "cap": kelly_cap,
            "fraction": fraction,
            "notional": fraction * equity if equity is not None else None,
        }
    return {
        "symbol": info.symbol,
        "side": side,
        "as_of": now.isoformat(),
        "entry": price,
        "entry_source": "given" if entry is not None else "last_price",
        "equity": equity,
        "risk_fraction": risk_fraction,
        "risk_amount": equity * risk_fraction if equity is not None else None,
        "reward_risk": reward_risk,
        "stops": stops,
        "kelly": kelly,
    }
