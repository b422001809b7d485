"""Stop-loss, take-profit, position-size and Kelly helpers for the auto stop-loss feature.

Conventions: ``side`` is the position side, ``"long"`` or ``"short"``; a long stop sits below
the entry and a short stop above it. Percentages and volatilities are fractions (0.02 = 2 %),
``daily_vol`` being the standard deviation of daily simple returns. Sizes are unrounded
quantities: the caller rounds down to its lot size so the risk budget is never exceeded.
"""

from __future__ import annotations

from typing import Literal

PositionSide = Literal["long", "short"]


def _direction(side: PositionSide) -> float:
    if side == "long":
        return 1.0
    if side == "short":
        return -1.0
    raise ValueError(f"side must be 'long' or 'short', got {side!r}")


def _positive(name: str, value: float) -> None:
    if not value > 0.0:
        raise ValueError(f"{name} must be positive, got {value}")


def atr_stop(entry: float, atr: float, multiple: float, side: PositionSide) -> float:
    """Return a stop ``multiple`` average true ranges away from the entry, against the side."""
    _positive("entry", entry)
    _positive("atr", atr)
    _positive("multiple", multiple)
    return entry - _direction(side) * multiple * atr


def percent_stop(entry: float, pct: float, side: PositionSide) -> float:
    """Return a stop ``pct`` (a fraction) away from the entry, against the side."""
    _positive("entry", entry)
    if not 0.0 < pct < 1.0:
        raise ValueError(f"pct must lie in (0, 1), got {pct}")
    return entry * (1.0 - _direction(side) * pct)


def volatility_stop(entry: float, daily_vol: float, k: float, side: PositionSide) -> float:
    """Return a stop ``k`` daily standard deviations (a return fraction) from the entry."""
    _positive("entry", entry)
    _positive("daily_vol", daily_vol)
    _positive("k", k)
    if side == "long" and k * daily_vol >= 1.0:
        raise ValueError("a long stop k * daily_vol away would be at or below zero")
    return entry * (1.0 - _direction(side) * k * daily_vol)


def take_profit(entry: float, stop: float, reward_risk: float, side: PositionSide) -> float:
    """Return the target ``reward_risk`` times the entry-to-stop distance past the entry."""
    _positive("entry", entry)
    _positive("reward_risk", reward_risk)
    direction = _direction(side)
    risk = (entry - stop) * direction
    if not risk > 0.0:
        raise ValueError(f"a {side} stop must lie on the losing side of the entry")
    return entry + direction * reward_risk * risk


def position_size_fixed_fraction(
    equity: float, risk_fraction: float, entry: float, stop: float
) -> float:
    """Return the quantity that loses ``equity * risk_fraction`` if the stop is hit."""
    _positive("equity", equity)
    if not 0.0 < risk_fraction <= 1.0:
        raise ValueError(f"risk_fraction must lie in (0, 1], got {risk_fraction}")
    _positive("entry", entry)
    per_unit = abs(entry - stop)
    if per_unit == 0.0:
        raise ValueError("stop must differ from entry")
    return equity * risk_fraction / per_unit


def kelly_fraction(win_rate: float, win_loss_ratio: float, cap: float = 0.25) -> float:
    """Return the Kelly fraction ``p - (1 - p) / b``, floored at 0 and capped at ``cap``."""
    if not 0.0 <= win_rate <= 1.0:
        raise ValueError(f"win_rate must lie in [0, 1], got {win_rate}")
    _positive("win_loss_ratio", win_loss_ratio)
    if not 0.0 <= cap <= 1.0:
        raise ValueError(f"cap must lie in [0, 1], got {cap}")
    full = win_rate - (1.0 - win_rate) / win_loss_ratio
    return min(max(full, 0.0), cap)
