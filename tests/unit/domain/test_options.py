"""Black-Scholes-Merton prices and greeks, implied volatility, delta strikes and OCC symbols."""

from __future__ import annotations

import itertools
import math
from datetime import date

import numpy as np
import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.options import (
    OccContract,
    OptionInputError,
    OptionKind,
    bs_price,
    bs_price_array,
    greeks,
    greeks_array,
    implied_vol,
    occ_symbol,
    parse_occ_symbol,
    price_bounds,
    strike_for_delta,
)

GRID = list(
    itertools.product(
        (50.0, 100.0),  # spot
        (80.0, 100.0, 125.0),  # strike
        (0.02, 0.5, 2.0),  # years
        (0.0, 0.05),  # rate
        (0.1, 0.45),  # vol
        (0.0, 0.03),  # dividend yield
    )
)


def test_hull_textbook_prices() -> None:
    # Hull, Options, Futures and Other Derivatives: S=42, K=40, r=10 %, vol=20 %, six months.
    assert round(bs_price("call", 42, 40, 0.5, 0.10, 0.20), 2) == 4.76
    assert round(bs_price("put", 42, 40, 0.5, 0.10, 0.20), 2) == 0.81


def test_hull_textbook_greeks() -> None:
    # Hull's running example: S=49, K=50, r=5 %, vol=20 %, 20 weeks (0.3846 years).
    g = greeks("call", 49, 50, 0.3846, 0.05, 0.20)
    assert g.delta == pytest.approx(0.522, abs=5e-4)
    assert g.gamma == pytest.approx(0.066, abs=5e-4)
    assert g.vega == pytest.approx(12.1, abs=0.05)
    assert g.theta == pytest.approx(-4.31, abs=5e-3)
    assert g.rho == pytest.approx(8.91, abs=5e-3)


@pytest.mark.parametrize(("s", "k", "t", "r", "v", "q"), GRID)
def test_put_call_parity(s: float, k: float, t: float, r: float, v: float, q: float) -> None:
    call, put = bs_price("call", s, k, t, r, v, q), bs_price("put", s, k, t, r, v, q)
    assert call - put == pytest.approx(s * math.exp(-q * t) - k * math.exp(-r * t), abs=1e-9)
    gc, gp = greeks("call", s, k, t, r, v, q), greeks("put", s, k, t, r, v, q)
    assert gc.delta - gp.delta == pytest.approx(math.exp(-q * t), abs=1e-12)
    assert gc.gamma == pytest.approx(gp.gamma) and gc.vega == pytest.approx(gp.vega)


@pytest.mark.parametrize("kind", ["call", "put"])
@pytest.mark.parametrize(("s", "k", "t", "r", "v", "q"), GRID[::5])
def test_greeks_match_finite_differences(
    kind: str, s: float, k: float, t: float, r: float, v: float, q: float
) -> None:
    def price(**change: float) -> float:
        args = {"spot": s, "strike": k, "t_years": t, "rate": r, "vol": v, "q": q} | change
        return bs_price(kind, **args)  # type: ignore[arg-type]

    g = greeks(kind, s, k, t, r, v, q)  # type: ignore[arg-type]
    h = s * 1e-4
    assert g.delta == pytest.approx((price(spot=s + h) - price(spot=s - h)) / (2 * h), abs=1e-6)
    gamma = (price(spot=s + h) - 2 * price() + price(spot=s - h)) / h**2
    assert g.gamma == pytest.approx(gamma, rel=1e-3, abs=1e-5)
    assert g.vega == pytest.approx(
        (price(vol=v + 1e-5) - price(vol=v - 1e-5)) / 2e-5, rel=1e-5, abs=1e-6
    )
    theta = -(price(t_years=t + 1e-6) - price(t_years=t - 1e-6)) / 2e-6
    assert g.theta == pytest.approx(theta, rel=1e-4, abs=1e-5)
    assert g.rho == pytest.approx(
        (price(rate=r + 1e-6) - price(rate=r - 1e-6)) / 2e-6, rel=1e-5, abs=1e-5
    )


def test_arrays_match_scalars() -> None:
    s, k, t, r, v, q = (np.array(x, dtype=float) for x in zip(*GRID, strict=True))
    for call in (True, False):
        kind: OptionKind = "call" if call else "put"
        prices = bs_price_array(call, s, k, t, r, v, q)
        g = greeks_array(call, s, k, t, r, v, q)
        for n in range(0, len(GRID), 7):
            args = (s[n], k[n], t[n], r[n], v[n], q[n])
            assert prices[n] == pytest.approx(bs_price(kind, *args), rel=1e-12, abs=1e-12)
            one = greeks(kind, *args)
            for name in ("delta", "gamma", "vega", "theta", "rho"):
                assert g[name][n] == pytest.approx(getattr(one, name), rel=1e-10, abs=1e-12)


def test_expiry_and_zero_vol_limits() -> None:
    assert bs_price("call", 110, 100, 0.0, 0.05, 0.3) == 10.0
    assert bs_price("put", 110, 100, 0.0, 0.05, 0.3) == 0.0
    assert bs_price("put", 90, 100, 0.0, 0.05, 0.3) == 10.0
    # No volatility: the discounted intrinsic value of the forward.
    fwd = 100 * math.exp(-0.01) - 95 * math.exp(-0.05)
    assert bs_price("call", 100, 95, 1.0, 0.05, 0.0, 0.01) == pytest.approx(fwd)
    assert bs_price("call", 100, 95, 1.0, 0.05, 1e-6, 0.01) == pytest.approx(fwd, abs=1e-9)
    assert bs_price("put", 100, 95, 1.0, 0.05, 0.0, 0.01) == 0.0
    g = greeks("call", 110, 100, 0.0, 0.05, 0.3)
    assert (g.delta, g.gamma, g.vega) == (1.0, 0.0, 0.0)
    assert bs_price_array(np.array([True, False]), 110, 100, 0.0, 0.05, 0.3).tolist() == [10, 0]
    assert greeks_array(False, 90, 100, 0.0, 0.0, 0.2)["delta"] == -1.0


@pytest.mark.parametrize(("s", "k", "t", "r", "v", "q"), GRID[::3])
def test_implied_vol_round_trip(s: float, k: float, t: float, r: float, v: float, q: float) -> None:
    kinds: tuple[OptionKind, ...] = ("call", "put")
    for kind in kinds:
        price = bs_price(kind, s, k, t, r, v, q)
        lower, _ = price_bounds(kind, s, k, t, r, q)
        if price - lower < 1e-6 * s:  # no volatility information left in the price
            continue
        solved = implied_vol(kind, price, s, k, t, r, q)
        assert solved == pytest.approx(v, rel=1e-6)


def test_implied_vol_outside_bounds_is_an_invalid_input() -> None:
    # A call below its intrinsic value, or above the stock itself, has no volatility.
    intrinsic = 100 - 80 * math.exp(-0.05 * 0.5)
    for price in (intrinsic - 0.5, 100.0, 150.0, -1.0):
        with pytest.raises(OptionInputError, match="no-arbitrage bounds") as info:
            implied_vol("call", price, 100, 80, 0.5, 0.05)
        assert isinstance(info.value, InvalidInput) and isinstance(info.value, ValueError)
    with pytest.raises(OptionInputError):
        implied_vol("put", 81.0, 100, 80, 0.5, 0.05)  # above the discounted strike
    with pytest.raises(OptionInputError, match="expired"):
        implied_vol("put", 1.0, 100, 80, 0.0, 0.05)
    with pytest.raises(OptionInputError):
        bs_price("call", -1, 100, 1, 0.0, 0.2)
    with pytest.raises(OptionInputError):
        bs_price("straddle", 100, 100, 1, 0.0, 0.2)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "delta"), [("call", 0.25), ("call", 0.5), ("put", -0.25)])
def test_strike_for_delta_inverts_delta(kind: str, delta: float) -> None:
    for t, v, q in ((0.1, 0.3, 0.0), (1.0, 0.2, 0.02)):
        strike = strike_for_delta(kind, delta, 100, t, 0.04, v, q)  # type: ignore[arg-type]
        found = greeks(kind, 100, strike, t, 0.04, v, q).delta  # type: ignore[arg-type]
        assert found == pytest.approx(delta, abs=1e-9)
    otm = strike_for_delta(kind, delta, 100, 0.25, 0.04, 0.3)  # type: ignore[arg-type]
    if abs(delta) == 0.25:
        assert (otm > 100) if kind == "call" else (otm < 100)
    for wrong in (0.0, 1.0, -delta):
        with pytest.raises(OptionInputError):
            strike_for_delta(kind, wrong, 100, 0.25, 0.04, 0.3)  # type: ignore[arg-type]


def test_occ_symbols_compact_and_padded() -> None:
    expiry = date(2024, 1, 19)
    assert occ_symbol("AAPL", expiry, "call", 190) == "AAPL240119C00190000"
    padded = occ_symbol("AAPL", expiry, "call", 190, padded=True)
    assert padded == "AAPL  240119C00190000" and len(padded) == 21
    assert occ_symbol("spy", date(2025, 3, 21), "put", 472.5) == "SPY250321P00472500"
    for contract in (
        OccContract("AAPL", expiry, "call", 190.0),
        OccContract("SPY", date(2030, 12, 20), "put", 472.5),
        OccContract("F", date(2024, 6, 21), "put", 12.5),
        OccContract("GOOGL", date(2024, 6, 21), "call", 0.5),
        OccContract("BRKB", date(2026, 1, 16), "call", 12345.125),
    ):
        for pad in (False, True):
            name = occ_symbol(
                contract.underlying, contract.expiry, contract.kind, contract.strike, padded=pad
            )
            assert parse_occ_symbol(name) == contract


@pytest.mark.parametrize(
    "bad", ["AAPL", "AAPL240119X00190000", "AAPL241319C00190000", "TOOLONGX240119C00190000", ""]
)
def test_parse_rejects_what_is_not_an_occ_symbol(bad: str) -> None:
    with pytest.raises(OptionInputError):
        parse_occ_symbol(bad)


def test_occ_symbol_rejects_what_does_not_fit() -> None:
    with pytest.raises(OptionInputError):
        occ_symbol("BTC/USD", date(2024, 1, 19), "call", 100)
    with pytest.raises(OptionInputError):
        occ_symbol("AAPL", date(2024, 1, 19), "call", 100.0001)
    with pytest.raises(OptionInputError):
        occ_symbol("AAPL", date(2024, 1, 19), "call", 100_000)
