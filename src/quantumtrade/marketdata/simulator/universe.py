"""The symbols the simulator trades and the parameters that shape their prices."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from quantumtrade.marketdata.source import SymbolInfo, UnknownSymbol

EQUITY = "us_equity"
CRYPTO = "crypto"
ASSET_CLASSES = (EQUITY, CRYPTO)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One simulated symbol.

    ``price`` is the close on the universe's anchor date; ``volatility`` and ``drift`` are
    annual (log) figures; ``beta`` loads the market factor and ``sector_loading`` the sector's.
    Volumes are in units of the asset (shares, coins); ``lot_size`` is the volume quantum and
    must be a power of two so that summed volumes stay exact in float64.
    """

    symbol: str
    name: str
    price: float
    volatility: float
    beta: float
    sector: str | None = None
    asset_class: str = EQUITY
    exchange: str = "NASDAQ"
    avg_volume: float = 10_000_000.0
    spread_bps: float = 2.0
    sector_loading: float = 1.0
    drift: float = 0.0
    is_etf: bool = False
    lot_size: float = 1.0
    avg_trade_size: float = 100.0
    quote_size: float = 500.0

    def __post_init__(self) -> None:
        if not self.symbol or self.symbol != self.symbol.strip().upper():
            raise ValueError(f"symbol {self.symbol!r} must be non-empty upper case")
        if self.asset_class not in ASSET_CLASSES:
            raise ValueError(f"{self.symbol}: asset_class must be one of {ASSET_CLASSES}")
        for label in ("price", "volatility", "avg_volume", "spread_bps", "avg_trade_size"):
            if not getattr(self, label) > 0:
                raise ValueError(f"{self.symbol}: {label} must be positive")
        exponent = math.log2(self.lot_size) if self.lot_size > 0 else 0.5
        if exponent != int(exponent):
            raise ValueError(f"{self.symbol}: lot_size must be a power of two")
        if self.avg_volume / self.lot_size < 10_000:
            raise ValueError(f"{self.symbol}: avg_volume must be at least 10000 lots a day")

    @property
    def is_crypto(self) -> bool:
        return self.asset_class == CRYPTO

    def info(self) -> SymbolInfo:
        """Describe the symbol the way every market data source does."""
        return SymbolInfo(
            symbol=self.symbol,
            name=self.name,
            asset_class=self.asset_class,
            exchange=self.exchange,
            sector=self.sector,
            shortable=not self.is_crypto,
        )


@dataclass(frozen=True, slots=True)
class Universe:
    """An ordered set of symbol specs; prices are anchored on ``anchor`` (a trading day)."""

    specs: tuple[SymbolSpec, ...]
    anchor: date = date(2024, 1, 2)
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        specs = tuple(self.specs)
        if not specs:
            raise ValueError("a universe needs at least one symbol")
        index = {spec.symbol: i for i, spec in enumerate(specs)}
        if len(index) != len(specs):
            raise ValueError("symbols in a universe must be unique")
        object.__setattr__(self, "specs", specs)
        object.__setattr__(self, "_index", MappingProxyType(index))

    @classmethod
    def of(cls, universe: Universe | Iterable[SymbolSpec] | None) -> Universe:
        """Accept a universe, a list of specs, or None for the default universe."""
        if universe is None:
            return DEFAULT_UNIVERSE
        if isinstance(universe, Universe):
            return universe
        return cls(tuple(universe))

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(spec.symbol for spec in self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def index(self, symbol: str) -> int:
        """Return the position of ``symbol``; raise UnknownSymbol if it is not here."""
        try:
            return self._index[symbol.strip().upper()]
        except KeyError:
            raise UnknownSymbol(f"the simulator does not trade {symbol!r}") from None

    def spec(self, symbol: str) -> SymbolSpec:
        return self.specs[self.index(symbol)]

    def infos(self) -> tuple[SymbolInfo, ...]:
        return tuple(spec.info() for spec in self.specs)


def _stock(
    symbol: str,
    name: str,
    price: float,
    volatility: float,
    beta: float,
    sector: str,
    exchange: str,
    avg_volume: float,
    spread_bps: float,
) -> SymbolSpec:
    return SymbolSpec(
        symbol=symbol,
        name=name,
        price=price,
        volatility=volatility,
        beta=beta,
        sector=sector,
        exchange=exchange,
        avg_volume=avg_volume,
        spread_bps=spread_bps,
    )


TECH = "Technology"
COMM = "Communication Services"
DISC = "Consumer Discretionary"
FIN = "Financials"
ENERGY = "Energy"
HEALTH = "Health Care"
STAPLES = "Consumer Staples"

# Prices are split-adjusted closes around the first session of 2024; volatilities, betas and
# volumes are rounded long-run figures.
DEFAULT_SPECS: tuple[SymbolSpec, ...] = (
    _stock("AAPL", "Apple Inc.", 185.0, 0.27, 1.20, TECH, "NASDAQ", 55e6, 1.0),
    _stock("MSFT", "Microsoft Corporation", 370.0, 0.26, 1.10, TECH, "NASDAQ", 22e6, 1.0),
    _stock("NVDA", "NVIDIA Corporation", 48.0, 0.50, 1.70, TECH, "NASDAQ", 400e6, 2.0),
    _stock("AMZN", "Amazon.com, Inc.", 150.0, 0.33, 1.20, DISC, "NASDAQ", 45e6, 1.0),
    _stock("GOOGL", "Alphabet Inc. Class A", 138.0, 0.30, 1.10, COMM, "NASDAQ", 25e6, 1.0),
    _stock("META", "Meta Platforms, Inc.", 346.0, 0.40, 1.30, COMM, "NASDAQ", 15e6, 1.5),
    _stock("TSLA", "Tesla, Inc.", 248.0, 0.60, 1.90, DISC, "NASDAQ", 100e6, 1.5),
    _stock("JPM", "JPMorgan Chase & Co.", 170.0, 0.25, 1.10, FIN, "NYSE", 9e6, 1.5),
    _stock("BAC", "Bank of America Corporation", 33.5, 0.30, 1.30, FIN, "NYSE", 40e6, 3.0),
    _stock("XOM", "Exxon Mobil Corporation", 100.0, 0.28, 0.80, ENERGY, "NYSE", 17e6, 1.5),
    _stock("CVX", "Chevron Corporation", 149.0, 0.28, 0.90, ENERGY, "NYSE", 8e6, 1.5),
    _stock("JNJ", "Johnson & Johnson", 157.0, 0.17, 0.55, HEALTH, "NYSE", 7e6, 1.5),
    _stock("PFE", "Pfizer Inc.", 29.0, 0.24, 0.60, HEALTH, "NYSE", 35e6, 3.5),
    _stock("WMT", "Walmart Inc.", 52.0, 0.19, 0.50, STAPLES, "NYSE", 18e6, 2.0),
    _stock("KO", "The Coca-Cola Company", 59.0, 0.16, 0.60, STAPLES, "NYSE", 13e6, 2.0),
    _stock("DIS", "The Walt Disney Company", 90.0, 0.30, 1.10, COMM, "NYSE", 10e6, 1.5),
    _stock("AMD", "Advanced Micro Devices, Inc.", 138.0, 0.55, 1.80, TECH, "NASDAQ", 55e6, 1.5),
    _stock("NFLX", "Netflix, Inc.", 468.0, 0.45, 1.20, COMM, "NASDAQ", 4e6, 2.5),
    SymbolSpec(
        symbol="SPY",
        name="SPDR S&P 500 ETF Trust",
        price=472.0,
        volatility=0.16,
        beta=1.0,
        exchange="ARCA",
        avg_volume=75e6,
        spread_bps=0.3,
        is_etf=True,
    ),
    SymbolSpec(
        symbol="QQQ",
        name="Invesco QQQ Trust",
        price=402.0,
        volatility=0.21,
        beta=1.15,
        sector=TECH,
        sector_loading=0.6,
        exchange="NASDAQ",
        avg_volume=45e6,
        spread_bps=0.4,
        is_etf=True,
    ),
    SymbolSpec(
        symbol="BTC/USD",
        name="Bitcoin / US Dollar",
        price=45_000.0,
        volatility=0.65,
        beta=1.4,
        sector="Crypto",
        asset_class=CRYPTO,
        exchange="CRYPTO",
        avg_volume=20_000.0,
        spread_bps=4.0,
        drift=0.15,
        lot_size=1 / 256,
        avg_trade_size=0.05,
        quote_size=0.5,
    ),
)

DEFAULT_UNIVERSE = Universe(DEFAULT_SPECS)
