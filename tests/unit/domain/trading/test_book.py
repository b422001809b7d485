from __future__ import annotations

import dataclasses
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import Side, trailing_stop_update
from quantumtrade.domain.trading.book import BookEntry, Books, OrderBook

D = Decimal
_ids = count(1)


def entry(
    side: Side,
    type: str = "limit",
    *,
    seq: int | None = None,
    order_id: str | None = None,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    trail_price: Decimal | None = None,
    trail_percent: Decimal | None = None,
) -> BookEntry:
    number = next(_ids)
    return BookEntry(
        order_id=order_id or f"order-{number}",
        side=side,
        type=type,
        seq=number if seq is None else seq,
        limit_price=limit_price,
        stop_price=stop_price,
        trail_price=trail_price,
        trail_percent=trail_percent,
    )


def ids(entries: list[BookEntry]) -> list[str]:
    return [e.order_id for e in entries]


# --- limits -----------------------------------------------------------------------------


def test_on_quote_buy_limit_marketable_only_when_ask_at_or_below_limit() -> None:
    book = OrderBook("AAPL")
    buy = entry(Side.BUY, limit_price=D("100.00"))
    book.add(buy)

    assert book.on_quote(D("99.00"), D("100.01")) == []
    assert book.on_quote(D("99.00"), D("100.00")) == [buy]
    assert book.on_quote(D("99.00"), D("99.50")) == [buy]


def test_on_quote_sell_limit_marketable_only_when_bid_at_or_above_limit() -> None:
    book = OrderBook("AAPL")
    sell = entry(Side.SELL, limit_price=D("100.00"))
    book.add(sell)

    assert book.on_quote(D("99.99"), D("101.00")) == []
    assert book.on_quote(D("100.00"), D("101.00")) == [sell]
    assert book.on_quote(D("100.50"), D("101.00")) == [sell]


def test_on_quote_buys_highest_limit_first_then_earliest() -> None:
    book = OrderBook("AAPL")
    late_high = entry(Side.BUY, seq=3, limit_price=D("101.00"))
    early_low = entry(Side.BUY, seq=1, limit_price=D("100.50"))
    late_low = entry(Side.BUY, seq=4, limit_price=D("100.50"))
    early_high = entry(Side.BUY, seq=2, limit_price=D("101.00"))
    for e in (late_high, early_low, late_low, early_high):
        book.add(e)

    assert book.on_quote(None, D("100.00")) == [early_high, late_high, early_low, late_low]


def test_on_quote_sells_lowest_limit_first_then_earliest() -> None:
    book = OrderBook("AAPL")
    late_low = entry(Side.SELL, seq=3, limit_price=D("99.00"))
    early_high = entry(Side.SELL, seq=1, limit_price=D("99.50"))
    early_low = entry(Side.SELL, seq=2, limit_price=D("99.00"))
    for e in (late_low, early_high, early_low):
        book.add(e)

    assert book.on_quote(D("100.00"), None) == [early_low, late_low, early_high]


def test_on_quote_does_not_remove_marketable_entries() -> None:
    book = OrderBook("AAPL")
    buy = entry(Side.BUY, limit_price=D("100.00"))
    book.add(buy)

    assert book.on_quote(None, D("99.00")) == [buy]
    assert book.on_quote(None, D("99.00")) == [buy]
    assert len(book) == 1


@pytest.mark.parametrize("empty", [None, D(0), D("-1")])
def test_on_quote_empty_side_returns_nothing_for_that_side(empty: Decimal | None) -> None:
    book = OrderBook("AAPL")
    buy = entry(Side.BUY, limit_price=D("100.00"))
    sell = entry(Side.SELL, limit_price=D("100.00"))
    book.add(buy)
    book.add(sell)

    assert book.on_quote(empty, D("99.00")) == [buy]
    assert book.on_quote(D("101.00"), empty) == [sell]
    assert book.on_quote(empty, empty) == []


# --- add, remove, lookup -----------------------------------------------------------------


def test_remove_entry_never_returned_again() -> None:
    book = OrderBook("AAPL")
    kept = entry(Side.BUY, limit_price=D("100.00"))
    gone = entry(Side.BUY, limit_price=D("100.00"))
    stop = entry(Side.SELL, "stop", stop_price=D("95.00"))
    for e in (kept, gone, stop):
        book.add(e)

    assert book.remove(gone.order_id) is gone
    assert book.remove(stop.order_id) is stop

    assert book.on_quote(None, D("90.00")) == [kept]
    assert book.on_trade(D("90.00")) == []
    assert gone.order_id not in book
    assert book.get(gone.order_id) is None
    assert len(book) == 1


def test_remove_absent_id_returns_none() -> None:
    book = OrderBook("AAPL")
    assert book.remove("nope") is None


def test_add_same_id_after_remove_rests_again() -> None:
    book = OrderBook("AAPL")
    first = entry(Side.BUY, order_id="x", limit_price=D("100.00"))
    book.add(first)
    book.remove("x")
    again = entry(Side.SELL, order_id="x", limit_price=D("101.00"))
    book.add(again)

    assert book.on_quote(None, D("90.00")) == []
    assert book.on_quote(D("101.00"), None) == [again]
    assert book.get("x") is again


def test_add_duplicate_id_raises_value_error() -> None:
    book = OrderBook("AAPL")
    book.add(entry(Side.BUY, order_id="x", limit_price=D("100.00")))
    with pytest.raises(ValueError, match="already"):
        book.add(entry(Side.BUY, order_id="x", limit_price=D("99.00")))
    assert len(book) == 1


def test_entries_len_and_contains_list_every_live_entry() -> None:
    book = OrderBook("AAPL")
    added = [
        entry(Side.BUY, limit_price=D("100.00")),
        entry(Side.SELL, "stop", stop_price=D("90.00")),
        entry(Side.BUY, "stop_limit", stop_price=D("110.00"), limit_price=D("111.00")),
        entry(Side.SELL, "trailing_stop", trail_price=D("1.00")),
    ]
    for e in added:
        book.add(e)

    assert sorted(ids(book.entries())) == sorted(ids(added))
    assert len(book) == 4
    assert all(e.order_id in book for e in added)
    assert 42 not in book


@pytest.mark.parametrize(
    ("type", "prices"),
    [
        ("limit", {}),
        ("limit", {"limit_price": D(0)}),
        ("limit", {"limit_price": D("NaN")}),
        ("stop", {"limit_price": D("100")}),
        ("stop_limit", {"stop_price": D("100")}),
        ("stop_limit", {"limit_price": D("100")}),
        ("trailing_stop", {}),
        ("trailing_stop", {"trail_price": D("1"), "trail_percent": D("1")}),
        ("trailing_stop", {"trail_percent": D("-1")}),
        ("market", {"limit_price": D("100")}),
    ],
)
def test_add_entry_missing_its_prices_raises_invalid_input(
    type: str, prices: dict[str, Any]
) -> None:
    book = OrderBook("AAPL")
    with pytest.raises(InvalidInput):
        book.add(dataclasses.replace(BookEntry("bad", Side.BUY, type, 1), **prices))
    assert len(book) == 0


def test_add_entry_with_plain_string_side_raises_invalid_input() -> None:
    book = OrderBook("AAPL")
    bad = BookEntry("bad", "buy", "limit", 1, limit_price=D("100"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        book.add(bad)


# --- stops -------------------------------------------------------------------------------


def test_on_trade_buy_stop_triggers_at_and_above_stop() -> None:
    book = OrderBook("AAPL")
    stop = entry(Side.BUY, "stop", stop_price=D("105.00"))
    book.add(stop)

    assert book.on_trade(D("104.99")) == []
    assert book.on_trade(D("105.00")) == [stop]
    assert book.on_trade(D("107.00")) == [stop]


def test_on_trade_sell_stop_triggers_at_and_below_stop() -> None:
    book = OrderBook("AAPL")
    stop = entry(Side.SELL, "stop", stop_price=D("95.00"))
    book.add(stop)

    assert book.on_trade(D("95.01")) == []
    assert book.on_trade(D("95.00")) == [stop]
    assert book.on_trade(D("90.00")) == [stop]


def test_on_trade_triggered_stops_stay_until_removed_and_come_in_seq_order() -> None:
    book = OrderBook("AAPL")
    later = entry(Side.BUY, "stop", seq=2, stop_price=D("100.00"))
    earlier = entry(Side.BUY, "stop", seq=1, stop_price=D("101.00"))
    book.add(later)
    book.add(earlier)

    assert book.on_trade(D("102.00")) == [earlier, later]
    book.remove(earlier.order_id)
    assert book.on_trade(D("102.00")) == [later]


def test_on_trade_ignores_limits_and_non_positive_prints() -> None:
    book = OrderBook("AAPL")
    book.add(entry(Side.BUY, limit_price=D("100.00")))
    book.add(entry(Side.SELL, "stop", stop_price=D("95.00")))

    assert book.on_trade(D("99.00")) == []
    assert book.on_trade(D(0)) == []


def test_stop_limit_converts_on_trade_then_fills_on_quote() -> None:
    book = OrderBook("AAPL")
    stop_limit = entry(Side.BUY, "stop_limit", stop_price=D("105.00"), limit_price=D("105.50"))
    book.add(stop_limit)

    assert book.on_quote(None, D("100.00")) == []
    assert book.on_trade(D("104.00")) == []
    assert not stop_limit.triggered

    assert book.on_trade(D("105.00")) == []
    assert stop_limit.triggered
    assert book.on_quote(None, D("105.60")) == []
    assert book.on_quote(None, D("105.50")) == [stop_limit]

    assert book.remove(stop_limit.order_id) is stop_limit
    assert book.on_quote(None, D("100.00")) == []


def test_sell_stop_limit_triggered_falls_back_to_its_limit() -> None:
    book = OrderBook("AAPL")
    stop_limit = entry(Side.SELL, "stop_limit", stop_price=D("95.00"), limit_price=D("94.50"))
    book.add(stop_limit)

    book.on_trade(D("94.90"))
    assert stop_limit.triggered
    assert book.on_quote(D("94.49"), None) == []
    assert book.on_quote(D("94.50"), None) == [stop_limit]
    # A trade back above the stop does not un-trigger it.
    book.on_trade(D("96.00"))
    assert book.on_quote(D("94.60"), None) == [stop_limit]


def test_stop_limit_added_already_triggered_rests_as_limit() -> None:
    book = OrderBook("AAPL")
    restored = entry(Side.BUY, "stop_limit", stop_price=D("105.00"), limit_price=D("105.50"))
    restored.triggered = True
    book.add(restored)

    assert book.on_quote(None, D("105.00")) == [restored]


# --- trailing stops ----------------------------------------------------------------------


def test_sell_trailing_stop_raises_its_stop_then_triggers_on_pullback() -> None:
    book = OrderBook("AAPL")
    trail = entry(Side.SELL, "trailing_stop", trail_price=D("1.00"))
    book.add(trail)

    for price in ("100", "101", "102.5"):
        assert book.on_trade(D(price)) == []
    assert trail.hwm == D("102.5")
    assert trail.stop_price == D("101.50")

    assert book.on_trade(D("101.51")) == []
    assert trail.stop_price == D("101.50")
    assert book.on_trade(D("101.50")) == [trail]


def test_sell_trailing_stop_in_percent_follows_the_high() -> None:
    book = OrderBook("AAPL")
    trail = entry(Side.SELL, "trailing_stop", trail_percent=D("1"))
    book.add(trail)

    assert book.on_trade(D("100.00")) == []
    assert trail.stop_price == D("99.00")
    assert book.on_trade(D("110.00")) == []
    assert trail.stop_price == D("108.90")
    assert book.on_trade(D("109.00")) == []
    assert book.on_trade(D("108.90")) == [trail]


def test_buy_trailing_stop_lowers_its_stop_then_triggers_on_bounce() -> None:
    book = OrderBook("AAPL")
    trail = entry(Side.BUY, "trailing_stop", trail_price=D("1.00"))
    book.add(trail)

    for price in ("100", "99", "97.5"):
        assert book.on_trade(D(price)) == []
    assert trail.hwm == D("97.5")
    assert trail.stop_price == D("98.50")
    assert book.on_trade(D("98.49")) == []
    assert book.on_trade(D("98.50")) == [trail]


def test_trailing_stop_removed_no_longer_moves_or_triggers() -> None:
    book = OrderBook("AAPL")
    trail = entry(Side.SELL, "trailing_stop", trail_price=D("1.00"))
    book.add(trail)
    book.on_trade(D("100"))
    book.remove(trail.order_id)

    assert book.on_trade(D("50")) == []
    assert trail.hwm == D("100")


# --- all symbols -------------------------------------------------------------------------


def test_books_remove_finds_the_symbol_holding_the_id() -> None:
    books = Books()
    aapl = entry(Side.BUY, limit_price=D("100.00"))
    msft = entry(Side.SELL, "stop", stop_price=D("300.00"))
    books.add("AAPL", aapl)
    books.add("MSFT", msft)

    assert books.remove(msft.order_id) is msft
    assert msft.order_id not in books.book("MSFT")
    assert books.remove(msft.order_id) is None
    assert len(books) == 1
    assert books.symbols() == ["AAPL"]


def test_books_remove_finds_entries_added_through_a_book() -> None:
    books = Books()
    direct = entry(Side.BUY, limit_price=D("100.00"))
    books.book("TSLA").add(direct)

    assert books.remove(direct.order_id) is direct
    assert len(books) == 0


def test_books_add_same_id_in_two_symbols_raises_value_error() -> None:
    books = Books()
    books.add("AAPL", entry(Side.BUY, order_id="x", limit_price=D("100.00")))
    with pytest.raises(ValueError, match="AAPL"):
        books.add("MSFT", entry(Side.BUY, order_id="x", limit_price=D("100.00")))

    books.remove("x")
    books.add("MSFT", entry(Side.BUY, order_id="x", limit_price=D("100.00")))
    assert books.symbols() == ["MSFT"]


def test_books_book_creates_on_demand_and_returns_the_same_book() -> None:
    books = Books()
    assert books.book("AAPL") is books.book("AAPL")
    assert books.symbols() == []


# --- against a brute-force scan ----------------------------------------------------------


def limit_of(e: BookEntry) -> Decimal:
    assert e.limit_price is not None
    return e.limit_price


class ScanModel:
    """The book's rules written as a scan over every entry, to check the index against."""

    def __init__(self) -> None:
        self.live: dict[str, BookEntry] = {}

    def on_quote(self, bid: Decimal | None, ask: Decimal | None) -> list[str]:
        limits = [
            e
            for e in self.live.values()
            if e.type == "limit" or (e.type == "stop_limit" and e.triggered)
        ]
        buys = sorted(
            (e for e in limits if e.side is Side.BUY and ask and ask > 0 and limit_of(e) >= ask),
            key=lambda e: (-limit_of(e), e.seq),
        )
        sells = sorted(
            (e for e in limits if e.side is Side.SELL and bid and bid > 0 and limit_of(e) <= bid),
            key=lambda e: (limit_of(e), e.seq),
        )
        return ids(buys + sells)

    def on_trade(self, price: Decimal) -> list[str]:
        fired = []
        for e in self.live.values():
            if e.type == "trailing_stop":
                e.hwm, e.stop_price = trailing_stop_update(
                    e.side, e.hwm, price, trail_price=e.trail_price, trail_percent=e.trail_percent
                )
            assert e.stop_price is not None or e.type == "limit"
            hit = e.stop_price is not None and (
                price >= e.stop_price if e.side is Side.BUY else price <= e.stop_price
            )
            if e.type in ("stop", "trailing_stop") and hit:
                fired.append(e)
            elif e.type == "stop_limit" and hit:
                e.triggered = True
        return ids(sorted(fired, key=lambda e: e.seq))


cents = st.integers(9_990, 10_010).map(lambda n: D(n).scaleb(-2))
no_liquidity = st.sampled_from([None, D(0)])


def new_entry(data: st.DataObject, order_id: str, seq: int) -> BookEntry:
    side = data.draw(st.sampled_from(Side))
    type = data.draw(st.sampled_from(["limit", "stop", "stop_limit", "trailing_stop"]))
    made = BookEntry(order_id, side, type, seq)
    if type in ("limit", "stop_limit"):
        made.limit_price = data.draw(cents)
    if type in ("stop", "stop_limit"):
        made.stop_price = data.draw(cents)
    if type == "trailing_stop":
        made.trail_price = data.draw(st.sampled_from([D("0.05"), D("0.50")]))
    return made


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_book_matches_brute_force_scan(data: st.DataObject) -> None:
    book, model = OrderBook("AAPL"), ScanModel()
    added: list[str] = []
    for step in range(data.draw(st.integers(0, 80), label="steps")):
        kind = data.draw(st.sampled_from(["add", "add", "remove", "quote", "trade"]))
        if kind == "add":
            # Seqs unique but not in insertion order, as after a restart from the database.
            seq = data.draw(st.integers(0, 1_000)) * 1_000 + step
            made = new_entry(data, f"id-{step % 30}", seq)
            if made.order_id in model.live:
                with pytest.raises(ValueError):
                    book.add(made)
                continue
            book.add(made)
            model.live[made.order_id] = dataclasses.replace(made)
            added.append(made.order_id)
        elif kind == "remove" and added:
            order_id = data.draw(st.sampled_from(added))
            removed = book.remove(order_id)
            assert (removed is None) == (model.live.pop(order_id, None) is None)
        elif kind == "quote":
            bid = data.draw(st.one_of(no_liquidity, cents))
            ask = data.draw(st.one_of(no_liquidity, cents))
            assert ids(book.on_quote(bid, ask)) == model.on_quote(bid, ask)
        elif kind == "trade":
            price = data.draw(cents)
            assert ids(book.on_trade(price)) == model.on_trade(price)
        assert sorted(ids(book.entries())) == sorted(model.live)
    for order_id, expected in model.live.items():
        assert book.get(order_id) == expected
