"""The master daily path: a regime-switching factor model with stochastic volatility and jumps.

Every calendar day from :data:`ORIGIN` gets, per symbol, an overnight ("gap") and an intraday
log-return. Random numbers are drawn in fixed blocks of :data:`BLOCK_DAYS` days, each from its
own ``SeedSequence``: common draws from ``[seed, block]``, a sector's from
``[seed, SECTOR_TAG, block, crc32(sector)]`` and a symbol's from
``[seed, SYMBOL_TAG, block, crc32(symbol)]``. So the path up to a day never depends on how far
ahead anyone asked, and adding a symbol to a universe leaves the others' paths alone. Blocks
carry their end state (regime, volatility, price level) into the next one and are cached.
"""

from __future__ import annotations

import bisect
import math
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    N_DAYS,
    ORIGIN,
    ORIGIN_NS,
    OutOfSimulationRange,
    day_ns,
    to_ns,
)
from quantumtrade.marketdata.simulator.universe import Universe

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BLOCK_DAYS = 365
SYMBOL_TAG = 0x5EED_0001
SECTOR_TAG = 0x5EED_0002


class Regime(StrEnum):
    BULL = "bull"
    SIDEWAYS = "sideways"
    BEAR = "bear"
    CRISIS = "crisis"


REGIMES = (Regime.BULL, Regime.SIDEWAYS, Regime.BEAR, Regime.CRISIS)

# Per regime, in REGIMES order. Drift is the market's annual log drift; the volatility
# multipliers scale the market and the idiosyncratic parts apart, so that a crisis also raises
# correlations.
MARKET_DRIFT = np.array([0.16, 0.03, -0.12, -0.50])
MARKET_VOL = np.array([0.80, 0.85, 1.35, 2.60])
IDIO_VOL = np.array([0.90, 0.90, 1.15, 1.70])
MARKET_JUMPS_PER_YEAR = np.array([1.0, 1.0, 4.0, 25.0])
VOLUME_MULT = np.array([0.95, 0.90, 1.25, 1.90])
SPREAD_MULT = np.array([1.00, 1.10, 1.60, 3.00])


def _transitions() -> FloatArray:
    # (expected stay in days, where a change goes) per regime; days are calendar days.
    stays = (400.0, 200.0, 150.0, 40.0)
    moves = (
        (0.00, 0.60, 0.30, 0.10),
        (0.55, 0.00, 0.35, 0.10),
        (0.25, 0.45, 0.00, 0.30),
        (0.20, 0.20, 0.60, 0.00),
    )
    matrix = np.array(moves) / np.array(stays)[:, None]
    matrix[np.diag_indices(4)] = 1.0 - matrix.sum(axis=1)
    result: FloatArray = matrix
    return result


TRANSITIONS = _transitions()
_CUMULATIVE = np.cumsum(TRANSITIONS, axis=1).tolist()

SIGMA_MARKET = 0.16
SIGMA_SECTOR = 0.12
MIN_IDIO = 0.03
SV_PHI = 0.98
SV_SD_MARKET = 0.25
SV_SD_IDIO = 0.20
# Equities move a tenth as much on weekend days (the move lands in Monday's gap).
EQUITY_WEEKDAY_TAU = 1.0 / (260.9 + 0.1 * 104.4)
CRYPTO_TAU = 1.0 / 365.25
EARNINGS_PER_YEAR = 4.0
CRYPTO_JUMPS_PER_YEAR = 12.0


@dataclass(frozen=True, slots=True)
class Block:
    """The master path of every symbol over one block of days; arrays are (days, symbols)."""

    index: int
    regime: npt.NDArray[np.int8]
    ret: FloatArray
    intra: FloatArray
    sd_gap: FloatArray
    sd_intra: FloatArray
    log_close: FloatArray
    weight: FloatArray
    u_high: FloatArray
    u_low: FloatArray
    z_volume: FloatArray
    z_count: FloatArray
    idio_jump: FloatArray  # the symbol's own jump (log size, 0 on most days): a planted event
    idio_in_gap: npt.NDArray[np.bool_]  # whether that jump lands in the opening gap
    h_market: float
    h_idio: FloatArray


def stable_key(text: str) -> int:
    """Return a stable 32-bit key for a name (Python's ``hash`` changes per process)."""
    return zlib.crc32(text.encode())


def _rng(*entropy: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))


def _ar1(shocks: FloatArray, start: FloatArray) -> FloatArray:
    """Run ``h[t] = phi * h[t-1] + shocks[t]`` down axis 0 without a Python loop."""
    steps = np.arange(shocks.shape[0], dtype=np.float64)[:, None]
    summed = np.cumsum(shocks * SV_PHI ** (-steps), axis=0)
    result: FloatArray = SV_PHI ** (steps + 1) * start + SV_PHI**steps * summed
    return result


class MarketModel:
    """The seeded master path of a universe; blocks are generated on demand and cached."""

    def __init__(self, universe: Universe, seed: int) -> None:
        if seed < 0:
            raise ValueError("seed must be a non-negative integer")
        self.universe = universe
        self.seed = seed
        specs = universe.specs
        self._beta = np.array([s.beta for s in specs])
        self._crypto = np.array([s.is_crypto for s in specs])
        sectors = sorted({s.sector for s in specs if s.sector is not None})
        self._sectors = sectors
        self._sector_of = np.array([sectors.index(s.sector) if s.sector else 0 for s in specs])
        self._loading = np.array([s.sector_loading if s.sector else 0.0 for s in specs])
        vol = np.array([s.volatility for s in specs])
        systematic = (self._beta * SIGMA_MARKET) ** 2 + (self._loading * SIGMA_SECTOR) ** 2
        self._sigma_idio = np.sqrt(np.maximum(vol**2 - systematic, MIN_IDIO**2))
        self._drift = np.array([s.drift for s in specs])
        self._gap_share = np.where(self._crypto, 0.5, 0.25)
        jumps = np.where(self._crypto, CRYPTO_JUMPS_PER_YEAR / 365.25, EARNINGS_PER_YEAR / 260.9)
        self._jump_prob = np.where([s.is_etf for s in specs], 0.0, jumps)
        self._jump_sd = 3.0 * vol * np.sqrt(np.where(self._crypto, CRYPTO_TAU, 1 / 252))
        self._keys = [stable_key(s.symbol) for s in specs]
        self._blocks: list[Block] = []
        self._offset: FloatArray | None = None

    def block(self, k: int) -> Block:
        """Return block ``k``, generating it and every earlier block first."""
        if not 0 <= k <= (N_DAYS - 1) // BLOCK_DAYS:
            raise OutOfSimulationRange(f"block {k} is outside the simulated days")
        while len(self._blocks) <= k:
            previous = self._blocks[-1] if self._blocks else None
            self._blocks.append(self._make_block(len(self._blocks), previous))
        return self._blocks[k]

    @property
    def offset(self) -> FloatArray:
        """Return what turns a block's cumulative log-return into the anchored log price."""
        if self._offset is None:
            ordinal = (self.universe.anchor - ORIGIN).days
            if not 0 <= ordinal < N_DAYS:
                raise OutOfSimulationRange("the universe's anchor date is not simulated")
            block = self.block(ordinal // BLOCK_DAYS)
            prices = np.array([s.price for s in self.universe.specs])
            self._offset = np.log(prices) - block.log_close[ordinal % BLOCK_DAYS]
        return self._offset

    def regime_codes(self, lo: int, hi: int) -> npt.NDArray[np.int8]:
        """Return the regime code (index into REGIMES) of each day in ``[lo, hi)``."""
        lo, hi = max(lo, 0), min(hi, N_DAYS)
        if hi <= lo:
            return np.empty(0, np.int8)
        first, last = lo // BLOCK_DAYS, (hi - 1) // BLOCK_DAYS
        codes = np.concatenate([self.block(k).regime for k in range(first, last + 1)])
        return codes[lo - first * BLOCK_DAYS : hi - first * BLOCK_DAYS]

    def regime_at(self, ordinal: int) -> int:
        return int(self.block(ordinal // BLOCK_DAYS).regime[ordinal % BLOCK_DAYS])

    def regimes(self, start: date | datetime, end: date | datetime) -> pd.Series:
        """Return the true regime of each UTC day from ``start`` (inclusive) to ``end``."""
        lo, hi = (_ordinal_ceil(start), _ordinal_ceil(end))
        lo, hi = max(lo, 0), min(hi, N_DAYS)
        ordinals = np.arange(lo, max(lo, hi), dtype=np.int64)
        names = np.array([r.value for r in REGIMES], dtype=object)
        index = pd.DatetimeIndex(pd.to_datetime(day_ns(ordinals), unit="ns", utc=True))
        return pd.Series(
            names[self.regime_codes(lo, hi)], index=index.rename("time"), name="regime"
        )

    def _make_block(self, k: int, previous: Block | None) -> Block:
        days, n = BLOCK_DAYS, len(self._beta)
        common = _rng(self.seed, k)
        u_regime = common.random(days)
        eta_market = common.standard_normal(days)
        z_market = common.standard_normal((2, days, 1))
        u_jump, z_jump, u_jump_gap = (
            common.random(days),
            common.standard_normal(days),
            common.random(days),
        )
        h_start = common.standard_normal() * SV_SD_MARKET
        z_sector = np.stack(
            [
                _rng(self.seed, SECTOR_TAG, k, stable_key(name)).standard_normal((2, days))
                for name in self._sectors
            ]
            or [np.zeros((2, days))],
            axis=-1,
        )[:, :, self._sector_of]
        draws = [self._symbol_draws(k, key) for key in self._keys]
        eps = np.stack([d[0] for d in draws], axis=-1)
        per_day = np.stack([d[1] for d in draws], axis=-1)
        eta_idio, u_idio, z_idio, u_idio_gap, u_high, u_low, z_volume, z_count = per_day
        h_idio_start = np.array([d[2] for d in draws])

        regime = self._regime_chain(u_regime, int(previous.regime[-1]) if previous else 0)
        innovation = math.sqrt(1 - SV_PHI**2)
        h_prev_m = np.array([previous.h_market if previous else h_start])
        h_market = _ar1((eta_market * SV_SD_MARKET * innovation)[:, None], h_prev_m)[:, 0]
        h_prev_i = previous.h_idio if previous else h_idio_start
        h_idio = _ar1(eta_idio * SV_SD_IDIO * innovation, h_prev_i)

        ordinals = k * days + np.arange(days)
        weekend = (ordinals + ORIGIN.weekday()) % 7 >= 5
        weight = np.where(self._crypto, 1.0, np.where(weekend[:, None], 0.1, 1.0))
        tau = weight * np.where(self._crypto, CRYPTO_TAU, EQUITY_WEEKDAY_TAU)
        m_market = (MARKET_VOL[regime] * np.exp(h_market - SV_SD_MARKET**2))[:, None]
        m_idio = IDIO_VOL[regime][:, None]
        m_eps = m_idio * np.exp(h_idio - SV_SD_IDIO**2)
        load_m = self._beta * SIGMA_MARKET * m_market
        load_s = self._loading * SIGMA_SECTOR * m_idio
        load_e = self._sigma_idio * m_eps
        rate = load_m**2 + load_s**2 + load_e**2
        mu = (self._beta * MARKET_DRIFT[regime][:, None] + self._drift) * tau

        market_jump = u_jump < MARKET_JUMPS_PER_YEAR[regime] / 365.25
        market_size = np.where(market_jump, -0.015 + 0.03 * z_jump, 0.0)[:, None] * self._beta
        idio_prob = np.where(weekend[:, None] & ~self._crypto, 0.0, self._jump_prob)
        idio_size = np.where(u_idio < idio_prob, z_idio * self._jump_sd, 0.0)
        jump_gap = np.where(u_jump_gap[:, None] < 0.7, market_size, 0.0)
        idio_in_gap = u_idio_gap < 0.8
        jump_gap = jump_gap + np.where(idio_in_gap, idio_size, 0.0)
        jump_total = market_size + idio_size

        parts, sds = [], []
        for c, share in enumerate((self._gap_share, 1.0 - self._gap_share)):
            scale = np.sqrt(tau * share)
            shock = load_m * z_market[c] + load_s * z_sector[c] + load_e * eps[c]
            parts.append(mu * share + scale * shock)
            sds.append(scale * np.sqrt(rate))
        gap = parts[0] + jump_gap
        intra = parts[1] + (jump_total - jump_gap)
        ret = gap + intra
        start = previous.log_close[-1] if previous else np.zeros(n)
        return Block(
            index=k,
            regime=regime,
            ret=ret,
            intra=intra,
            sd_gap=sds[0],
            sd_intra=sds[1],
            log_close=start + np.cumsum(ret, axis=0),
            weight=weight * np.ones((days, 1)),
            u_high=u_high,
            u_low=u_low,
            z_volume=z_volume,
            z_count=z_count,
            idio_jump=idio_size,
            idio_in_gap=idio_in_gap & (idio_size != 0.0),
            h_market=float(h_market[-1]),
            h_idio=h_idio[-1],
        )

    def _symbol_draws(self, k: int, key: int) -> tuple[FloatArray, FloatArray, float]:
        rng = _rng(self.seed, SYMBOL_TAG, k, key)
        # Student-t(5) innovations scaled to unit variance give the fat tails.
        eps = rng.standard_t(5, (2, BLOCK_DAYS)) / math.sqrt(5 / 3)
        normals = rng.standard_normal((4, BLOCK_DAYS))  # vol, jump size, volume, count
        uniforms = rng.random((4, BLOCK_DAYS))  # jump, jump in gap, high, low
        per_day = np.concatenate(
            [normals[:1], uniforms[:1], normals[1:2], uniforms[1:], normals[2:]]
        )
        return eps, per_day, float(rng.standard_normal() * SV_SD_IDIO)

    @staticmethod
    def _regime_chain(uniforms: FloatArray, state: int) -> npt.NDArray[np.int8]:
        out = np.empty(len(uniforms), np.int8)
        for day, u in enumerate(uniforms.tolist()):
            state = min(bisect.bisect_right(_CUMULATIVE[state], u), 3)
            out[day] = state
        return out


def _ordinal_ceil(moment: date | datetime) -> int:
    """Return the first day ordinal whose UTC midnight is at or after ``moment``."""
    if isinstance(moment, datetime):
        return -(-(to_ns(moment) - ORIGIN_NS) // DAY_NS)
    return (moment - ORIGIN).days
