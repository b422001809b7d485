"""Response bodies of the Alpaca-compatible market data API (Alpaca's one-letter field names).

Times are RFC-3339 in UTC with a ``Z``; prices and sizes are numbers, as Alpaca sends them.
Multi-symbol answers are keyed by symbol; a symbol with nothing in the range is left out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

_TIME = "2026-11-18T15:59:00Z"


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class AlpacaDataBar(_Out):
    """One bar: its start ``t``, open, high, low, close, volume, trade count and VWAP."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "t": _TIME,
                    "o": 81.74,
                    "h": 81.8,
                    "l": 81.71,
                    "c": 81.78,
                    "v": 20713.0,
                    "n": 1102,
                    "vw": 81.7643,
                }
            ]
        },
    )

    t: str = Field(description="Start of the bar (UTC).")
    o: float = Field(description="Open.")
    h: float = Field(description="High.")
    low: float = Field(alias="l", description="Low.")
    c: float = Field(description="Close.")
    v: float = Field(description="Volume.")
    n: int | None = Field(description="Number of trades (null when the source has none).")
    vw: float | None = Field(description="Volume-weighted average price (null when unknown).")


class AlpacaDataTrade(_Out):
    """A trade. ``x``, ``i`` and ``c`` are null: the market service keeps no exchange codes,
    trade ids or conditions; ``z`` is the tape of the symbol's listing exchange."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"t": _TIME, "x": None, "p": 81.78, "s": 1252.0, "c": None, "i": None, "z": "C"}
            ]
        },
    )

    t: str
    x: str | None = None
    p: float
    s: float
    c: list[str] | None = None
    i: int | None = None
    z: str | None = None


class AlpacaDataQuote(_Out):
    """The best bid (``bp``, ``bs``) and ask (``ap``, ``as``). Crypto quotes carry no
    exchange, condition or tape fields."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "t": _TIME,
                    "ax": None,
                    "ap": 81.79,
                    "as": 260.0,
                    "bx": None,
                    "bp": 81.78,
                    "bs": 594.0,
                    "c": None,
                    "z": "C",
                }
            ]
        },
    )

    t: str
    ax: str | None = None
    ap: float
    ask_size: float = Field(alias="as")
    bx: str | None = None
    bp: float
    bs: float
    c: list[str] | None = None
    z: str | None = None


_SYMBOL: Any = (str, Field(examples=["AAPL"]))
_TOKEN: Any = (
    str | None,
    Field(description="Pass as page_token for the next page; null on the last page."),
)


def _model(name: str, doc: str, **fields: Any) -> type[BaseModel]:
    return create_model(name, __base__=_Out, __doc__=doc, **fields)


def _keyed(item: Any) -> Any:
    """``dict[str, item]`` (a type built at run time)."""
    return dict[str, item]


def _listed(item: Any) -> Any:
    return list[item]


def _series(item: type[BaseModel], key: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The paged answers of ``item``: keyed by symbol (symbols in order), and of one symbol."""
    name = f"AlpacaData{key.capitalize()}"
    many = _model(
        name,
        f"{key.capitalize()} keyed by symbol; next_page_token continues the list.",
        **{key: (_keyed(_listed(item)), ...), "next_page_token": _TOKEN},
    )
    one = _model(
        name.replace("Data", "DataSymbol"),
        f"{key.capitalize()} of one symbol.",
        **{key: (_listed(item), ...), "symbol": _SYMBOL, "next_page_token": _TOKEN},
    )
    return many, one


def _latest(item: type[BaseModel], key: str, name: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The latest ``item`` keyed by symbol, and of one symbol."""
    many = _model(
        f"AlpacaDataLatest{key.capitalize()}",
        f"The latest {name} of each symbol.",
        **{key: (_keyed(item), ...)},
    )
    one = _model(
        f"AlpacaDataLatest{name.capitalize()}",
        f"The latest {name} of one symbol.",
        **{"symbol": _SYMBOL, name: (item, ...)},
    )
    return many, one


# Model classes built from one pattern each, named as the OpenAPI shows them.
AlpacaDataBars, AlpacaDataSymbolBars = _series(AlpacaDataBar, "bars")
AlpacaDataTrades, AlpacaDataSymbolTrades = _series(AlpacaDataTrade, "trades")
AlpacaDataQuotes, AlpacaDataSymbolQuotes = _series(AlpacaDataQuote, "quotes")
AlpacaDataLatestBars, AlpacaDataLatestBar = _latest(AlpacaDataBar, "bars", "bar")
AlpacaDataLatestTrades, AlpacaDataLatestTrade = _latest(AlpacaDataTrade, "trades", "trade")
AlpacaDataLatestQuotes, AlpacaDataLatestQuote = _latest(AlpacaDataQuote, "quotes", "quote")


class AlpacaDataSnapshot(_Out):
    """The latest trade and quote, the last complete minute bar, the day's bar so far and
    the previous session's bar (null where the market has none), under Alpaca's camelCase
    names."""

    latestTrade: AlpacaDataTrade | None
    latestQuote: AlpacaDataQuote | None
    minuteBar: AlpacaDataBar | None
    dailyBar: AlpacaDataBar | None
    prevDailyBar: AlpacaDataBar | None


class AlpacaDataSymbolSnapshot(AlpacaDataSnapshot):
    symbol: str = Field(examples=["AAPL"])


class AlpacaDataCryptoSnapshots(_Out):
    snapshots: dict[str, AlpacaDataSnapshot]


class AlpacaDataBookLevel(_Out):
    p: float = Field(examples=[17909.67])
    s: float = Field(examples=[0.5])


class AlpacaDataOrderbook(_Out):
    """The top of the book only: one bid level and one ask level, from the latest quote."""

    t: str = Field(examples=[_TIME])
    b: list[AlpacaDataBookLevel]
    a: list[AlpacaDataBookLevel]


class AlpacaDataOrderbooks(_Out):
    orderbooks: dict[str, AlpacaDataOrderbook]
