"""The cached price has one shape: the feed's updates, the endpoint's loads and the API model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quantumtrade.api.schemas.market import Price
from quantumtrade.domain.market import Quote, Trade
from quantumtrade.services.price_cache import PriceSnapshot

AT = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)


def snapshot() -> PriceSnapshot:
    return PriceSnapshot.build(
        Trade("AAPL", AT, 101.0, 100.0),
        Quote("AAPL", AT, 100.98, 300.0, 101.02, 200.0),
        previous_close=100.0,
        market_open=True,
        asset_class="us_equity",
    )


def test_snapshot_fields_are_the_api_price_model_fields() -> None:
    assert set(PriceSnapshot.__dataclass_fields__) == set(Price.model_fields)
    Price.model_validate(snapshot().to_json())


def test_build_computes_the_change_against_the_previous_close() -> None:
    built = snapshot()
    assert built.change == 1.0
    assert built.change_percent == 1.0
    assert built.timestamp == "2026-11-18T16:00:00+00:00"


def test_from_json_round_trips() -> None:
    assert PriceSnapshot.from_json(snapshot().to_json()) == snapshot()


def test_from_json_takes_integral_prices_as_floats() -> None:
    value = snapshot().to_json() | {"price": 101, "previous_close": 100}
    parsed = PriceSnapshot.from_json(value)
    assert parsed is not None and parsed.price == 101.0 and isinstance(parsed.price, float)


def test_from_json_refuses_a_partial_entry() -> None:
    # What the feed used to write into the same key: the endpoint answered 500 on it.
    partial = {"symbol": "AAPL", "price": 101.0, "timestamp": "2026-11-18T16:00:00+00:00"}
    assert PriceSnapshot.from_json(partial) is None


def test_from_json_refuses_wrong_types_and_extra_keys() -> None:
    good = snapshot().to_json()
    assert PriceSnapshot.from_json(good | {"price": "101"}) is None
    assert PriceSnapshot.from_json(good | {"market_open": 1}) is None
    assert PriceSnapshot.from_json(good | {"price": True}) is None
    assert PriceSnapshot.from_json(good | {"extra": 1}) is None
    assert PriceSnapshot.from_json([good]) is None
    assert PriceSnapshot.from_json(None) is None


def test_with_trade_moves_the_price_and_the_change() -> None:
    later = snapshot().with_trade(
        Trade("AAPL", AT + timedelta(seconds=1), 99.5, 10.0), market_open=True
    )
    assert later is not None
    assert (later.price, later.size, later.change) == (99.5, 10.0, -0.5)
    assert later.change_percent == -0.5
    assert later.timestamp == "2026-11-18T16:00:01+00:00"
    assert (later.bid, later.ask, later.previous_close) == (100.98, 101.02, 100.0)


def test_with_trade_on_a_new_day_gives_none() -> None:
    tomorrow = Trade("AAPL", AT + timedelta(days=1), 99.5, 10.0)
    assert snapshot().with_trade(tomorrow, market_open=True) is None


def test_with_quote_moves_only_the_quote() -> None:
    quote = Quote("AAPL", AT + timedelta(seconds=2), 100.5, 1.0, 100.6, 2.0)
    later = snapshot().with_quote(quote)
    assert (later.bid, later.ask, later.bid_size, later.ask_size) == (100.5, 100.6, 1.0, 2.0)
    assert later.quote_timestamp == "2026-11-18T16:00:02+00:00"
    assert later.price == 101.0
