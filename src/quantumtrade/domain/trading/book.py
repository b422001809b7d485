"""Resting orders of the paper-trading engine, indexed by price so a tick touches only what moves.

Each symbol's :class:`OrderBook` keeps six sorted Python lists of rows
``(price, time key, order_id, entry)``: buy and sell limits (limits and triggered stop-limits),
buy and sell stops, and buy and sell untriggered stop-limits. A tick finds the marketable or
triggered run with :mod:`bisect` and reads only that run, so ``on_quote`` costs
O(log n + k) and ``on_trade`` O(log n + k + t) for k entries returned (or stop-limits moved)
and t trailing stops. Trailing stops move with every trade and are rare, so they sit in a
per-side dict scanned on each trade instead of in a price index.

``add`` and ``remove`` locate the row by bisection (O(log n) comparisons) and insert or
delete it in place; the list shift that follows is one C ``memmove`` of pointers, a few
microseconds even at 10^5 entries, and no Python-level scan. Removal is eager, so a removed
entry can never be returned again and its id can be reused at once.

The book only indexes: it never fills, sizes or removes orders by itself. The engine executes
what a tick returns and calls ``remove`` when an order is done; what it could not fill stays
and is returned again on the next tick. Not thread-safe: one engine owns the books.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter, itemgetter

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import Side, trailing_stop_update

ORDER_TYPES = frozenset({"limit", "stop", "stop_limit", "trailing_stop"})
_ZERO = Decimal(0)


@dataclass(slots=True)
class BookEntry:
    """One resting order as the book sees it; quantities stay with the engine."""

    order_id: str
    side: Side
    type: str
    seq: int
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    triggered: bool = False


# (price, time key, order_id, entry). The id makes every row unique, so bisection finds a
# row exactly and tuple comparison never reaches the (unorderable) entry.
_Row = tuple[Decimal, int, str, BookEntry]
_price = itemgetter(0)
_by_seq = attrgetter("seq")


def _positive(entry: BookEntry, name: str, value: Decimal | None) -> Decimal:
    if value is None:
        raise InvalidInput(
            f"a {entry.type} order needs {name}", code="missing_price", details={"field": name}
        )
    # NaN would make the ordering of the index meaningless, so only finite prices get in.
    if not isinstance(value, Decimal) or not value.is_finite() or value <= _ZERO:
        raise InvalidInput(
            f"{name} must be a positive Decimal, got {value!r}",
            code="invalid_price",
            details={"field": name},
        )
    return value


def validate_entry(entry: BookEntry) -> None:
    """Raise ``InvalidInput`` unless the entry carries the prices its type needs."""
    if not isinstance(entry.side, Side):
        raise InvalidInput(f"side must be a Side, got {entry.side!r}", code="invalid_side")
    if entry.type not in ORDER_TYPES:
        raise InvalidInput(f"the book cannot rest a {entry.type!r} order", code="invalid_type")
    if entry.type in ("limit", "stop_limit"):
        _positive(entry, "limit_price", entry.limit_price)
    if entry.type in ("stop", "stop_limit"):
        _positive(entry, "stop_price", entry.stop_price)
    if entry.type == "trailing_stop":
        if (entry.trail_price is None) == (entry.trail_percent is None):
            raise InvalidInput(
                "a trailing stop needs exactly one of trail_price and trail_percent",
                code="bad_trail",
            )
        if entry.trail_price is not None:
            _positive(entry, "trail_price", entry.trail_price)
        else:
            _positive(entry, "trail_percent", entry.trail_percent)
        if entry.hwm is not None:
            _positive(entry, "hwm", entry.hwm)


class OrderBook:
    """Resting orders of one symbol, indexed by price."""

    __slots__ = (
        "_bids",
        "_buy_stop_limits",
        "_buy_stops",
        "_offers",
        "_rows",
        "_sell_stop_limits",
        "_sell_stops",
        "_trailing",
        "symbol",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        # Buy limits ascend by (limit, -seq): the best bid, earliest first, sits at the end,
        # and the marketable run (limit >= ask) is a suffix read backwards.
        self._bids: list[_Row] = []
        # Sell limits ascend by (limit, seq): the marketable run (limit <= bid) is a prefix.
        self._offers: list[_Row] = []
        # Stops ascend by (stop, seq): buy stops fire as a prefix (stop <= trade),
        # sell stops as a suffix (stop >= trade).
        self._buy_stops: list[_Row] = []
        self._sell_stops: list[_Row] = []
        self._buy_stop_limits: list[_Row] = []
        self._sell_stop_limits: list[_Row] = []
        self._trailing: dict[Side, dict[str, BookEntry]] = {Side.BUY: {}, Side.SELL: {}}
        # Every live entry by id, with the row it is indexed under (trailing stops too).
        self._rows: dict[str, _Row] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._rows

    def __repr__(self) -> str:
        return f"OrderBook({self.symbol!r}, {len(self)} entries)"

    def add(self, entry: BookEntry) -> None:
        """Rest an entry; raise ``ValueError`` if its id is already here."""
        if entry.order_id in self._rows:
            raise ValueError(f"order {entry.order_id} is already in the {self.symbol} book")
        validate_entry(entry)
        if entry.type == "trailing_stop":
            row: _Row = (_ZERO, entry.seq, entry.order_id, entry)
            self._trailing[entry.side][entry.order_id] = entry
        else:
            row = self._row_for(entry)
            insort(self._home(entry), row)
        self._rows[entry.order_id] = row

    def remove(self, order_id: str) -> BookEntry | None:
        """Take an entry out of the book and return it, or ``None`` if it is not here."""
        row = self._rows.pop(order_id, None)
        if row is None:
            return None
        entry = row[3]
        if order_id in self._trailing[Side.BUY] or order_id in self._trailing[Side.SELL]:
            self._trailing[Side.BUY].pop(order_id, None)
            self._trailing[Side.SELL].pop(order_id, None)
        else:
            self._unlink(row)
        return entry

    def get(self, order_id: str) -> BookEntry | None:
        """Return the live entry with this id, or ``None``."""
        row = self._rows.get(order_id)
        return None if row is None else row[3]

    def entries(self) -> list[BookEntry]:
        """Return every live entry, in no particular order."""
        return [row[3] for row in self._rows.values()]

    def on_quote(self, bid: Decimal | None, ask: Decimal | None) -> list[BookEntry]:
        """Return the marketable limits, buys then sells, each in price-time priority.

        A buy is marketable when its limit is at or above the ask, a sell when at or below
        the bid. A missing or non-positive side means no liquidity there. Nothing is removed.
        """
        out: list[BookEntry] = []
        if ask is not None and ask > 0:
            bids = self._bids
            start = bisect_left(bids, ask, key=_price)
            out.extend(bids[i][3] for i in range(len(bids) - 1, start - 1, -1))
        if bid is not None and bid > 0:
            offers = self._offers
            stop = bisect_right(offers, bid, key=_price)
            out.extend(offers[i][3] for i in range(stop))
        return out

    def on_trade(self, price: Decimal) -> list[BookEntry]:
        """Apply a trade print and return the stops and trailing stops it triggers, by seq.

        A buy stop triggers at or above its stop, a sell stop at or below. Trailing stops
        first move their watermark and stop price, then trigger the same way. Stop-limits
        whose stop is hit become limits (``triggered``) and are returned by ``on_quote``
        from then on, not here. Triggered entries stay in the book until removed, so one the
        engine could not fill is returned again on the next trade. A non-positive print is
        ignored.
        """
        if not price > 0:
            return []
        fired: list[BookEntry] = []
        buy_stops, sell_stops = self._buy_stops, self._sell_stops
        if buy_stops and buy_stops[0][0] <= price:
            end = bisect_right(buy_stops, price, key=_price)
            fired.extend(buy_stops[i][3] for i in range(end))
        if sell_stops and sell_stops[-1][0] >= price:
            start = bisect_left(sell_stops, price, key=_price)
            fired.extend(sell_stops[i][3] for i in range(start, len(sell_stops)))
        self._trigger_stop_limits(price)
        for side, trailing in self._trailing.items():
            for entry in trailing.values():
                entry.hwm, entry.stop_price = trailing_stop_update(
                    side,
                    entry.hwm,
                    price,
                    trail_price=entry.trail_price,
                    trail_percent=entry.trail_percent,
                )
                hit = price >= entry.stop_price if side is Side.BUY else price <= entry.stop_price
                if hit:
                    fired.append(entry)
        if len(fired) > 1:
            fired.sort(key=_by_seq)
        return fired

    def _trigger_stop_limits(self, price: Decimal) -> None:
        """Move the stop-limits this trade triggers into the limit index."""
        moved: list[_Row] = []
        buys, sells = self._buy_stop_limits, self._sell_stop_limits
        if buys and buys[0][0] <= price:
            end = bisect_right(buys, price, key=_price)
            moved += buys[:end]
            del buys[:end]
        if sells and sells[-1][0] >= price:
            start = bisect_left(sells, price, key=_price)
            moved += sells[start:]
            del sells[start:]
        for old in moved:
            entry = old[3]
            entry.triggered = True
            row = self._row_for(entry)
            insort(self._home(entry), row)
            self._rows[entry.order_id] = row

    def _row_for(self, entry: BookEntry) -> _Row:
        if entry.type == "limit" or (entry.type == "stop_limit" and entry.triggered):
            assert entry.limit_price is not None  # validated on add
            if entry.side is Side.BUY:
                return (entry.limit_price, -entry.seq, entry.order_id, entry)
            return (entry.limit_price, entry.seq, entry.order_id, entry)
        assert entry.stop_price is not None  # validated on add
        return (entry.stop_price, entry.seq, entry.order_id, entry)

    def _home(self, entry: BookEntry) -> list[_Row]:
        buy = entry.side is Side.BUY
        if entry.type == "limit" or (entry.type == "stop_limit" and entry.triggered):
            return self._bids if buy else self._offers
        if entry.type == "stop":
            return self._buy_stops if buy else self._sell_stops
        return self._buy_stop_limits if buy else self._sell_stop_limits

    def _unlink(self, row: _Row) -> None:
        # The entry's fields say which list holds the row; should a caller have changed them
        # while it rested, the other lists are searched too (still by bisection).
        home = self._home(row[3])
        lists = (
            self._bids,
            self._offers,
            self._buy_stops,
            self._sell_stops,
            self._buy_stop_limits,
            self._sell_stop_limits,
        )
        for rows in (home, *lists):
            i = bisect_left(rows, row)
            if i < len(rows) and rows[i] is row:
                del rows[i]
                return
        raise AssertionError(f"order {row[2]} is missing from the {self.symbol} index")


class Books:
    """The order books of every symbol, with removal by order id alone."""

    __slots__ = ("_books", "_symbol_of")

    def __init__(self) -> None:
        self._books: dict[str, OrderBook] = {}
        self._symbol_of: dict[str, str] = {}

    def __len__(self) -> int:
        return sum(len(book) for book in self._books.values())

    def book(self, symbol: str) -> OrderBook:
        """Return the symbol's book, creating an empty one the first time."""
        found = self._books.get(symbol)
        if found is None:
            found = self._books[symbol] = OrderBook(symbol)
        return found

    def add(self, symbol: str, entry: BookEntry) -> None:
        """Rest an entry in the symbol's book; raise ``ValueError`` if its id rests anywhere."""
        held_by = self._symbol_of.get(entry.order_id)
        if held_by is not None and entry.order_id in self._books[held_by]:
            raise ValueError(f"order {entry.order_id} is already in the {held_by} book")
        self.book(symbol).add(entry)
        self._symbol_of[entry.order_id] = symbol

    def remove(self, order_id: str) -> BookEntry | None:
        """Take an entry out of whichever book holds it; ``None`` if none does."""
        symbol = self._symbol_of.pop(order_id, None)
        if symbol is not None:
            removed = self._books[symbol].remove(order_id)
            if removed is not None:
                return removed
        # Entries added through ``book(symbol).add`` are not in the id map: look in every book.
        for book in self._books.values():
            removed = book.remove(order_id)
            if removed is not None:
                return removed
        return None

    def symbols(self) -> list[str]:
        """Return the symbols with at least one resting entry, sorted."""
        return sorted(symbol for symbol, book in self._books.items() if len(book))
