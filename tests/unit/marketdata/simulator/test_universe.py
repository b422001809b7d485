"""The universe: default symbols, custom specs and their validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import (
    CRYPTO,
    DEFAULT_UNIVERSE,
    EQUITY,
    SimulatedMarket,
    SymbolSpec,
    Universe,
)
from quantumtrade.marketdata.source import UnknownSymbol

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def test_default_universe_has_liquid_names_benchmarks_and_bitcoin() -> None:
    symbols = DEFAULT_UNIVERSE.symbols
    assert {"AAPL", "MSFT", "NVDA", "XOM", "JPM", "SPY", "QQQ", "BTC/USD"} <= set(symbols)
    assert 18 <= len(symbols) <= 25
    assert DEFAULT_UNIVERSE.spec("BTC/USD").asset_class == CRYPTO
    assert DEFAULT_UNIVERSE.spec("XOM").info().sector == "Energy"


def test_symbols_are_symbol_infos(market: SimulatedMarket) -> None:
    infos = {info.symbol: info for info in market.symbols()}
    assert infos["AAPL"].asset_class == EQUITY
    assert infos["AAPL"].exchange == "NASDAQ"
    assert infos["BTC/USD"].asset_class == CRYPTO
    assert not infos["BTC/USD"].shortable


def test_lookup_is_case_insensitive_and_unknown_symbols_raise() -> None:
    assert DEFAULT_UNIVERSE.index("aapl") == DEFAULT_UNIVERSE.index("AAPL")
    with pytest.raises(UnknownSymbol):
        DEFAULT_UNIVERSE.index("NOPE")


@pytest.mark.parametrize(
    "changes",
    [{"price": 0.0}, {"asset_class": "bond"}, {"lot_size": 0.3}, {"symbol": "low"}],
)
def test_bad_specs_are_rejected(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "symbol": "ACME",
        "name": "Acme",
        "price": 10.0,
        "volatility": 0.3,
        "beta": 1.0,
    }
    with pytest.raises(ValueError):
        SymbolSpec(**(fields | changes))  # type: ignore[arg-type]


def test_duplicate_symbols_are_rejected() -> None:
    spec = DEFAULT_UNIVERSE.spec("AAPL")
    with pytest.raises(ValueError, match="unique"):
        Universe((spec, spec))


async def test_a_custom_universe_from_a_list_of_specs() -> None:
    acme = SymbolSpec("ACME", "Acme Corp.", price=20.0, volatility=0.35, beta=0.9, sector="X")
    market = SimulatedMarket(clock=FixedClock(NOW), universe=[acme])
    assert [info.symbol for info in market.symbols()] == ["ACME"]
    bars = await market.get_bars("ACME", "1Day", datetime(2024, 1, 2, tzinfo=UTC), NOW)
    assert bars["close"].iloc[0] == pytest.approx(20.0, abs=0.01)  # anchored on 2024-01-02
    with pytest.raises(UnknownSymbol):
        await market.get_bars("AAPL", "1Day", datetime(2024, 1, 2, tzinfo=UTC), NOW)


async def test_adding_a_symbol_leaves_the_others_history_alone() -> None:
    base = DEFAULT_UNIVERSE.specs[:5]
    extra = SymbolSpec("ACME", "Acme Corp.", price=20.0, volatility=0.35, beta=0.9)
    small = SimulatedMarket(clock=FixedClock(NOW), universe=base)
    large = SimulatedMarket(clock=FixedClock(NOW), universe=[extra, *base])
    start, end = datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 3, 1, tzinfo=UTC)
    pd.testing.assert_frame_equal(
        await small.get_bars("MSFT", "1Day", start, end),
        await large.get_bars("MSFT", "1Day", start, end),
    )
