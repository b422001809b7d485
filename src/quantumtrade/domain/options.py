"""European option pricing: Black-Scholes-Merton with a continuous dividend yield.

The model: the underlying follows a geometric Brownian motion with volatility ``vol`` (annual,
1.00 = 100 %), the risk-free ``rate`` and the dividend yield ``q`` are continuously compounded
annual rates, and ``t_years`` is the time to expiry in years. With the forward
``F = S exp((r - q) T)`` and ``d1 = (ln(S / K) + (r - q + vol^2 / 2) T) / (vol sqrt(T))``,
``d2 = d1 - vol sqrt(T)``::

    call = S e^{-qT} N(d1) - K e^{-rT} N(d2)
    put  = K e^{-rT} N(-d2) - S e^{-qT} N(-d1)

Greeks are per unit of their input: ``delta`` per 1.00 of spot, ``gamma`` per 1.00 of spot
squared, ``vega`` per 1.00 of volatility (divide by 100 for a vol point), ``theta`` per year
(the change in value as time passes, so usually negative; divide by 365 for a calendar day) and
``rho`` per 1.00 of the rate.

Edge cases: at ``t_years == 0`` the price is the intrinsic value; at ``vol == 0`` it is the
discounted intrinsic value of the forward. Their greeks are the limits (delta a step, the rest
0 or the carry terms).

Contract names follow the OCC symbology: root, expiry ``YYMMDD``, ``C`` or ``P``, and the
strike in thousandths of a dollar on eight digits. :func:`occ_symbol` writes the compact form
Alpaca uses (``AAPL240119C00190000``) or, with ``padded=True``, the 21-character OCC form with
the root padded to six characters (``AAPL  240119C00190000``); :func:`parse_occ_symbol` reads
both.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from quantumtrade.domain.errors import InvalidInput

OptionKind = Literal["call", "put"]
FloatArray = npt.NDArray[np.float64]
ArrayLike = float | FloatArray

# implied_vol searches volatilities in [IV_LOW, IV_HIGH] and solves prices to IV_PRICE_TOL.
IV_LOW = 1e-6
IV_HIGH = 10.0
IV_PRICE_TOL = 1e-10
OCC_STRIKE_SCALE = 1000  # OCC strikes are in thousandths of a dollar
OCC_ROOT_WIDTH = 6
_OCC = re.compile(r"^([A-Z0-9]{1,6}) *(\d{6})([CP])(\d{8})$")


class OptionInputError(InvalidInput, ValueError):
    """An option question with no answer: bad inputs, or a price outside no-arbitrage bounds."""

    default_code = "invalid_option_input"


@dataclass(frozen=True, slots=True)
class Greeks:
    """Sensitivities of one option's value (units in the module docs)."""

    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


@dataclass(frozen=True, slots=True)
class OccContract:
    """What an OCC option symbol names."""

    underlying: str
    expiry: date
    kind: OptionKind
    strike: float


# -- scalar pricing ---------------------------------------------------------------------------


def _n(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _check(kind: str, spot: float, strike: float, t_years: float, vol: float) -> None:
    if kind not in ("call", "put"):
        raise OptionInputError(f"option kind must be 'call' or 'put', not {kind!r}")
    if not (spot > 0 and strike > 0):
        raise OptionInputError("spot and strike must be positive")
    if not t_years >= 0:
        raise OptionInputError("time to expiry must not be negative")
    if not vol >= 0:
        raise OptionInputError("volatility must not be negative")


def bs_price(
    kind: OptionKind,
    spot: float,
    strike: float,
    t_years: float,
    rate: float,
    vol: float,
    q: float = 0.0,
) -> float:
    """Return the Black-Scholes-Merton value of a European option (see the module docs)."""
    _check(kind, spot, strike, t_years, vol)
    sign = 1.0 if kind == "call" else -1.0
    if t_years == 0:
        return max(sign * (spot - strike), 0.0)
    fwd_s = spot * math.exp(-q * t_years)
    disc_k = strike * math.exp(-rate * t_years)
    sd = vol * math.sqrt(t_years)
    if sd == 0:
        return max(sign * (fwd_s - disc_k), 0.0)
    d1 = (math.log(spot / strike) + (rate - q) * t_years) / sd + 0.5 * sd
    d2 = d1 - sd
    value = sign * (fwd_s * _n(sign * d1) - disc_k * _n(sign * d2))
    return max(value, 0.0)


def greeks(
    kind: OptionKind,
    spot: float,
    strike: float,
    t_years: float,
    rate: float,
    vol: float,
    q: float = 0.0,
) -> Greeks:
    """Return delta, gamma, vega (per 1.00 vol), theta (per year) and rho of one option."""
    _check(kind, spot, strike, t_years, vol)
    sign = 1.0 if kind == "call" else -1.0
    sd = vol * math.sqrt(t_years)
    if t_years == 0 or sd == 0:
        # The limit: the option is the (discounted) intrinsic payoff of the forward.
        fwd_s = spot * math.exp(-q * t_years)
        disc_k = strike * math.exp(-rate * t_years)
        in_money = sign * (fwd_s - disc_k) > 0
        if not in_money:
            return Greeks(0.0, 0.0, 0.0, 0.0, 0.0)
        return Greeks(
            sign * math.exp(-q * t_years),
            0.0,
            0.0,
            sign * (q * fwd_s - rate * disc_k),
            sign * t_years * disc_k,
        )
    eq, er = math.exp(-q * t_years), math.exp(-rate * t_years)
    d1 = (math.log(spot / strike) + (rate - q) * t_years) / sd + 0.5 * sd
    d2 = d1 - sd
    pdf = _pdf(d1)
    delta = sign * eq * _n(sign * d1)
    gamma = eq * pdf / (spot * sd)
    vega = spot * eq * pdf * math.sqrt(t_years)
    theta = (
        -spot * eq * pdf * vol / (2.0 * math.sqrt(t_years))
        + sign * q * spot * eq * _n(sign * d1)
        - sign * rate * strike * er * _n(sign * d2)
    )
    rho = sign * strike * t_years * er * _n(sign * d2)
    return Greeks(delta, gamma, vega, theta, rho)


# -- vectorised pricing -----------------------------------------------------------------------


def bs_price_array(
    is_call: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t_years: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    q: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Return :func:`bs_price` element-wise over broadcast arrays (``is_call`` is boolean).

    Inputs are not validated: spots and strikes must be positive, times and vols non-negative.
    """
    call, s, k, t, r, v, qq = _broadcast(is_call, spot, strike, t_years, rate, vol, q)
    sign = np.where(call, 1.0, -1.0)
    fwd_s = s * np.exp(-qq * t)
    disc_k = k * np.exp(-r * t)
    sd = v * np.sqrt(t)
    live = sd > 0
    safe = np.where(live, sd, 1.0)
    d1 = (np.log(s / k) + (r - qq) * t) / safe + 0.5 * safe
    d2 = d1 - safe
    value = sign * (fwd_s * ndtr(sign * d1) - disc_k * ndtr(sign * d2))
    limit = np.maximum(sign * (fwd_s - disc_k), 0.0)
    out: FloatArray = np.maximum(np.where(live, value, limit), 0.0)
    return out


def greeks_array(
    is_call: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t_years: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    q: npt.ArrayLike = 0.0,
) -> dict[str, FloatArray]:
    """Return :func:`greeks` element-wise: arrays keyed delta, gamma, vega, theta, rho."""
    call, s, k, t, r, v, qq = _broadcast(is_call, spot, strike, t_years, rate, vol, q)
    sign = np.where(call, 1.0, -1.0)
    eq, er = np.exp(-qq * t), np.exp(-r * t)
    sd = v * np.sqrt(t)
    live = sd > 0
    safe_sd = np.where(live, sd, 1.0)
    safe_t = np.where(live, t, 1.0)
    d1 = (np.log(s / k) + (r - qq) * t) / safe_sd + 0.5 * safe_sd
    d2 = d1 - safe_sd
    pdf = np.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
    n1, n2 = ndtr(sign * d1), ndtr(sign * d2)
    itm = sign * (s * eq - k * er) > 0
    zero = np.zeros_like(s)
    return {
        "delta": np.where(live, sign * eq * n1, np.where(itm, sign * eq, 0.0)),
        "gamma": np.where(live, eq * pdf / (s * safe_sd), zero),
        "vega": np.where(live, s * eq * pdf * np.sqrt(safe_t), zero),
        "theta": np.where(
            live,
            -s * eq * pdf * v / (2.0 * np.sqrt(safe_t))
            + sign * qq * s * eq * n1
            - sign * r * k * er * n2,
            np.where(itm, sign * (qq * s * eq - r * k * er), 0.0),
        ),
        "rho": np.where(live, sign * k * t * er * n2, np.where(itm, sign * t * k * er, 0.0)),
    }


def _broadcast(*values: npt.ArrayLike) -> list[FloatArray]:
    arrays = np.broadcast_arrays(*[np.asarray(v) for v in values])
    first = arrays[0].astype(bool)
    return [first, *[a.astype(np.float64) for a in arrays[1:]]]


# -- inverse problems -------------------------------------------------------------------------


def price_bounds(
    kind: OptionKind, spot: float, strike: float, t_years: float, rate: float, q: float = 0.0
) -> tuple[float, float]:
    """Return the no-arbitrage (lower, upper) bounds of a European option's price."""
    fwd_s = spot * math.exp(-q * t_years)
    disc_k = strike * math.exp(-rate * t_years)
    if kind == "call":
        return max(fwd_s - disc_k, 0.0), fwd_s
    return max(disc_k - fwd_s, 0.0), disc_k


def implied_vol(
    kind: OptionKind,
    price: float,
    spot: float,
    strike: float,
    t: float,
    rate: float,
    q: float = 0.0,
) -> float:
    """Return the volatility at which :func:`bs_price` equals ``price``.

    Raises :class:`OptionInputError` for an expired option, or a price at or below the lower
    no-arbitrage bound (where no positive volatility fits: pure intrinsic value) or at or above
    the upper one. Solved by Brent's method on ``[IV_LOW, IV_HIGH]``.
    """
    _check(kind, spot, strike, t, 0.0)
    if t == 0:
        raise OptionInputError("an expired option has no implied volatility")
    lower, upper = price_bounds(kind, spot, strike, t, rate, q)
    if not lower < price < upper:
        raise OptionInputError(
            f"price {price:g} is outside the no-arbitrage bounds ({lower:g}, {upper:g}) of "
            f"this {kind}: no volatility reproduces it"
        )

    def gap(vol: float) -> float:
        return bs_price(kind, spot, strike, t, rate, vol, q) - price

    low, high = IV_LOW, IV_HIGH
    if gap(low) >= 0:
        return low
    if gap(high) < 0:
        raise OptionInputError(f"price {price:g} needs a volatility above {IV_HIGH:g}")
    root: float = brentq(gap, low, high, xtol=1e-14, rtol=1e-12, maxiter=200)
    return root


def strike_for_delta(
    kind: OptionKind,
    delta: float,
    spot: float,
    t: float,
    rate: float,
    vol: float,
    q: float = 0.0,
) -> float:
    """Return the strike whose Black-Scholes spot delta is ``delta`` (negative for puts).

    From ``delta = ±e^{-qT} N(±d1)``: ``d1 = ±N^{-1}(±delta e^{qT})`` and
    ``K = S exp(-d1 vol sqrt(T) + (r - q + vol^2 / 2) T)``.
    """
    _check(kind, spot, spot, t, vol)
    if t == 0 or vol == 0:
        raise OptionInputError("a strike for a delta needs time to expiry and volatility")
    cap = math.exp(-q * t)
    sign = 1.0 if kind == "call" else -1.0
    if not 0 < sign * delta < cap:
        bound = f"(0, {cap:.6g})" if kind == "call" else f"({-cap:.6g}, 0)"
        raise OptionInputError(f"a {kind}'s delta lies in {bound}, not {delta:g}")
    d1 = sign * float(ndtri(sign * delta / cap))
    sd = vol * math.sqrt(t)
    return spot * math.exp(-d1 * sd + (rate - q + 0.5 * vol * vol) * t)


# -- OCC symbols ------------------------------------------------------------------------------


def occ_symbol(
    underlying: str, expiry: date, kind: OptionKind, strike: float, *, padded: bool = False
) -> str:
    """Return the OCC symbol of a contract, compact (Alpaca) unless ``padded``."""
    root = underlying.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,6}", root):
        raise OptionInputError(f"{underlying!r} is not an OCC root (1-6 letters or digits)")
    if kind not in ("call", "put"):
        raise OptionInputError(f"option kind must be 'call' or 'put', not {kind!r}")
    milli = round(strike * OCC_STRIKE_SCALE)
    if not 0 < milli < 10**8 or abs(milli - strike * OCC_STRIKE_SCALE) > 1e-6 * max(milli, 1):
        raise OptionInputError(f"strike {strike!r} does not fit the OCC format")
    if not 2000 <= expiry.year <= 2099:
        raise OptionInputError(f"expiry {expiry.isoformat()} does not fit the OCC format")
    head = root.ljust(OCC_ROOT_WIDTH) if padded else root
    return f"{head}{expiry:%y%m%d}{'C' if kind == 'call' else 'P'}{milli:08d}"


def parse_occ_symbol(symbol: str) -> OccContract:
    """Read a compact or padded OCC symbol; raise :class:`OptionInputError` if it is not one."""
    match = _OCC.match(symbol.strip().upper()) if len(symbol.rstrip()) <= 21 else None
    if match is None:
        raise OptionInputError(f"{symbol!r} is not an OCC option symbol")
    root, stamp, letter, milli = match.groups()
    try:
        expiry = date(2000 + int(stamp[:2]), int(stamp[2:4]), int(stamp[4:]))
    except ValueError:
        raise OptionInputError(f"{symbol!r} has no valid expiry date") from None
    kind: OptionKind = "call" if letter == "C" else "put"
    return OccContract(root, expiry, kind, int(milli) / OCC_STRIKE_SCALE)
