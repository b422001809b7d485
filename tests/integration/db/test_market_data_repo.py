"""Bulk bar storage on SQLite and PostgreSQL: idempotent upserts, aggregation, COPY ingest."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade.db.repositories import latest_bar, load_bars, upsert_bars
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import BAR_COLUMNS, Timeframe, resample_bars
from quantumtrade.marketdata.simulator import SimulatedMarket

MARKET = SimulatedMarket(seed=7, clock=FixedClock(datetime(2025, 7, 1, tzinfo=UTC)))
START, END = datetime(2025, 5, 5, tzinfo=UTC), datetime(2025, 5, 17, tzinfo=UTC)


def minutes(symbol: str = "AAPL", start: datetime = START, end: datetime = END) -> pd.DataFrame:
    return MARKET.bars(symbol, Timeframe.MIN_1, start, end)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    name = "migrated_sqlite" if request.param == "sqlite" else "migrated_pg"
    migrated: AsyncEngine = request.getfixturevalue(name)
    return migrated


async def test_upsert_is_idempotent_and_replaces(engine: AsyncEngine) -> None:
    bars = minutes()
    assert await upsert_bars(engine, "AAPL", Timeframe.MIN_1, bars, source="test") == len(bars)
    assert await upsert_bars(engine, "AAPL", Timeframe.MIN_1, bars, source="test") == len(bars)
    changed = bars.iloc[:10].assign(close=bars["close"].iloc[:10] + 0.01, vwap=float("nan"))
    changed["high"] = changed[["high", "close"]].max(axis=1)
    await upsert_bars(engine, "AAPL", Timeframe.MIN_1, changed, source="test")

    stored = await load_bars(engine, "AAPL", Timeframe.MIN_1, START, END)
    expected = pd.concat([changed, bars.iloc[10:]])
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, check_freq=False)
    assert stored["vwap"].iloc[:10].isna().all()


# Hand-built minutes: two days, gaps between them, a missing vwap (the close stands in for it)
# and a missing trade count (counts as none).
NAN = float("nan")
HAND_MINUTES = [
    # time (UTC)          open   high   low   close  volume  vwap   trades
    ("2025-05-06 14:30", 10.0, 11.0, 9.0, 10.5, 100, 10.25, 5),
    ("2025-05-06 14:31", 10.5, 12.0, 10.0, 11.0, 200, 11.0, 7),
    ("2025-05-06 14:34", 11.0, 11.5, 10.5, 11.25, 100, NAN, 3),
    ("2025-05-06 14:35", 11.25, 13.0, 11.0, 12.5, 100, 12.0, NAN),
    ("2025-05-06 14:59", 12.5, 12.75, 12.0, 12.0, 200, 12.5, 2),
    ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
    ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
]
# Worked out by hand: open first, high max, low min, close last, volume and trades summed,
# vwap = sum(vwap or close * volume) / sum(volume); empty buckets do not appear.
HAND_BARS = {
    Timeframe.MIN_5: [
        ("2025-05-06 14:30", 10.0, 12.0, 9.0, 11.25, 400, 4350 / 400, 15),
        ("2025-05-06 14:35", 11.25, 13.0, 11.0, 12.5, 100, 12.0, 0),
        ("2025-05-06 14:55", 12.5, 12.75, 12.0, 12.0, 200, 12.5, 2),
        ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
        ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
    Timeframe.MIN_15: [
        ("2025-05-06 14:30", 10.0, 13.0, 9.0, 12.5, 500, 5550 / 500, 15),
        ("2025-05-06 14:45", 12.5, 12.75, 12.0, 12.0, 200, 12.5, 2),
        ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
        ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
    Timeframe.HOUR_1: [
        ("2025-05-06 14:00", 10.0, 13.0, 9.0, 12.0, 700, 8050 / 700, 17),
        ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
        ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
    Timeframe.DAY_1: [
        ("2025-05-06 00:00", 10.0, 13.0, 9.0, 11.75, 1000, 11650 / 1000, 27),
        ("2025-05-07 00:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
}


def bar_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    stamps = [pd.Timestamp(row[0], tz="UTC") for row in rows]
    index = pd.DatetimeIndex(stamps, name="time").as_unit("ns")
    return pd.DataFrame([row[1:] for row in rows], index=index, columns=list(BAR_COLUMNS))


def assert_bars(stored: pd.DataFrame, rows: list[tuple[object, ...]]) -> None:
    pd.testing.assert_frame_equal(
        stored, bar_frame(rows), check_dtype=False, check_freq=False, rtol=1e-12
    )


async def test_load_bars_of_stored_hand_built_minutes_gives_the_hand_computed_bars(
    engine: AsyncEngine,
) -> None:
    minutes = bar_frame(HAND_MINUTES)
    await upsert_bars(engine, "HAND", Timeframe.MIN_1, minutes, source="test")
    day, next_day = datetime(2025, 5, 6, tzinfo=UTC), datetime(2025, 5, 8, tzinfo=UTC)

    assert_bars(await load_bars(engine, "HAND", Timeframe.MIN_1, day, next_day), HAND_MINUTES)
    for timeframe, expected in HAND_BARS.items():
        assert_bars(await load_bars(engine, "HAND", timeframe, day, next_day), expected)
        assert_bars(
            await load_bars(engine, "HAND", timeframe, day, next_day, limit=1), expected[:1]
        )


async def test_load_bars_of_a_range_cutting_buckets_gives_the_buckets_starting_in_it(
    engine: AsyncEngine,
) -> None:
    await upsert_bars(engine, "HAND", Timeframe.MIN_1, bar_frame(HAND_MINUTES), source="test")
    # 14:31 cuts the 14:30 bucket (left out); 14:56 cuts the 14:55 bucket (in, all of it).
    start, end = datetime(2025, 5, 6, 14, 31, tzinfo=UTC), datetime(2025, 5, 6, 14, 56, tzinfo=UTC)

    stored = await load_bars(engine, "HAND", Timeframe.MIN_5, start, end)

    assert_bars(stored, HAND_BARS[Timeframe.MIN_5][1:3])
    assert (await load_bars(engine, "HAND", Timeframe.HOUR_1, start, end)).empty


@pytest.mark.parametrize(
    "timeframe", [Timeframe.MIN_5, Timeframe.MIN_15, Timeframe.HOUR_1, Timeframe.DAY_1]
)
async def test_load_bars_on_postgres_aggregates_minutes_as_resample_bars_does(
    migrated_pg: AsyncEngine, timeframe: Timeframe
) -> None:
    # SQL aggregation against the Python one, itself pinned down by the hand-built test above.
    bars = minutes()
    await upsert_bars(migrated_pg, "AAPL", Timeframe.MIN_1, bars, source="test")
    lo, hi = datetime(2025, 5, 6, 14, 7, tzinfo=UTC), datetime(2025, 5, 15, 17, 2, tzinfo=UTC)

    stored = await load_bars(migrated_pg, "AAPL", timeframe, lo, hi)

    expected = resample_bars(bars, timeframe)
    expected = expected[(expected.index >= lo) & (expected.index < hi)]
    assert len(stored) > 5
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, check_freq=False, rtol=1e-12)
    limited = await load_bars(migrated_pg, "AAPL", timeframe, lo, hi, limit=3)
    pd.testing.assert_frame_equal(limited, stored.iloc[:3], check_freq=False)


async def test_stored_bars_of_the_timeframe_win_over_aggregation(engine: AsyncEngine) -> None:
    daily = MARKET.bars("MSFT", Timeframe.DAY_1, START, END)
    await upsert_bars(engine, "MSFT", Timeframe.DAY_1, daily, source="file")
    stored = await load_bars(engine, "MSFT", Timeframe.DAY_1, START, END)
    pd.testing.assert_frame_equal(stored, daily, check_dtype=False, check_freq=False)
    found = await latest_bar(engine, "MSFT")
    assert found is not None and found[0] is Timeframe.DAY_1
    assert found[1]["close"] == daily["close"].iloc[-1]


async def test_copy_ingest_spans_monthly_partitions(migrated_pg: AsyncEngine) -> None:
    bars = minutes("SPY", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 4, 30, tzinfo=UTC))
    assert await upsert_bars(migrated_pg, "SPY", Timeframe.MIN_1, bars, source="test") == len(bars)
    stored = await load_bars(
        migrated_pg, "SPY", Timeframe.MIN_1, datetime(2024, 12, 1, tzinfo=UTC), END
    )
    pd.testing.assert_frame_equal(stored, bars, check_dtype=False, check_freq=False)
    async with migrated_pg.connect() as conn:
        from sqlalchemy import text

        partitions = (
            await conn.execute(
                text("SELECT count(DISTINCT tableoid) FROM market_data WHERE symbol = 'SPY'")
            )
        ).scalar_one()
    assert partitions == 4


async def test_copy_ingest_stores_what_float8_to_numeric_gives(migrated_pg: AsyncEngine) -> None:
    from sqlalchemy import text

    # Near-ties at the 15th digit, more digits than the scale keeps, negatives, tiny values,
    # values that round up a power of ten, and NULL vwap / trade_count in the same batch.
    values = [
        163.4075,
        0.1 + 0.2,
        -2.5,
        1e-13,
        -4.99999999999999e-11,
        5.00000000000001e-11,
        0.000123456789012345,
        12345678.123456789,
        999999999999999.9,
        123456789012345.65,
        1.0000000000000005,
        9.999999999999999e16,
        2.0**52 + 1,
        7.0,
        0.0,
    ]
    index = pd.date_range("2025-03-31 23:50", periods=len(values), freq="1min", tz="UTC")
    prices = pd.Series(values, index=index)
    bars = pd.DataFrame(
        {
            "open": prices,
            "high": prices.abs() + 1,
            "low": -prices.abs(),
            "close": prices * 3,
            "volume": prices.abs() / 7,
            "vwap": prices.where(prices.index.minute % 2 == 0),
            "trade_count": pd.Series(range(len(values)), index=index).where(
                prices.index.minute % 3 != 0
            ),
        },
        index=index,
    )
    assert await upsert_bars(migrated_pg, "EDGE", Timeframe.MIN_1, bars, source="test") == len(bars)
    columns = ("open", "high", "low", "close", "volume", "vwap")
    async with migrated_pg.connect() as conn:
        stored = (
            await conn.execute(
                text(
                    f"SELECT {', '.join(f'{c}::text' for c in columns)}, trade_count"
                    " FROM market_data WHERE symbol = 'EDGE' ORDER BY time"
                )
            )
        ).all()
        for row, (_, bar) in zip(stored, bars.iterrows(), strict=True):
            for name, got in zip(columns, row, strict=False):
                value = bar[name]
                if value != value:
                    assert got is None
                    continue
                expected = (
                    await conn.execute(
                        text("SELECT CAST(CAST(CAST(:v AS float8) AS numeric(28, 10)) AS text)"),
                        {"v": float(value)},
                    )
                ).scalar_one()
                assert got == expected, (name, value)
            count = bar["trade_count"]
            assert row[-1] == (None if count != count else int(count))


async def test_upsert_merges_a_batch_overlapping_stored_bars(engine: AsyncEngine) -> None:
    bars = minutes()
    head, tail = bars.iloc[: len(bars) // 2], bars.iloc[len(bars) // 3 :]
    await upsert_bars(engine, "AAPL", Timeframe.MIN_1, head, source="a")
    changed = tail.assign(close=tail["close"] + 0.5, high=tail["high"] + 0.5)
    assert await upsert_bars(engine, "AAPL", Timeframe.MIN_1, changed, source="b") == len(tail)
    assert await upsert_bars(engine, "AAPL", Timeframe.MIN_1, changed, source="b") == len(tail)

    stored = await load_bars(engine, "AAPL", Timeframe.MIN_1, START, END)
    expected = pd.concat([head.iloc[: len(bars) // 3], changed])
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, check_freq=False)
    async with engine.connect() as conn:
        from sqlalchemy import text

        sources = (
            await conn.execute(
                text("SELECT source, count(*) FROM market_data GROUP BY source ORDER BY source")
            )
        ).all()
    assert [tuple(row) for row in sources] == [
        ("a", len(bars) // 3),
        ("b", len(tail)),
    ]


async def test_copy_ingest_refuses_a_trade_count_beyond_integer(migrated_pg: AsyncEngine) -> None:
    bars = minutes().iloc[:5].copy()
    bars["trade_count"] = [1, 2, 3, 4, 2**31]
    with pytest.raises(ValueError, match="trade_count"):
        await upsert_bars(migrated_pg, "AAPL", Timeframe.MIN_1, bars, source="test")
    assert (await load_bars(migrated_pg, "AAPL", Timeframe.MIN_1, START, END)).empty


def test_copy_decimals_match_fifteen_significant_digits() -> None:
    from decimal import Decimal

    import numpy as np

    from quantumtrade.db.repositories.market_data import _decimals

    rng = np.random.default_rng(3)
    ties = rng.integers(10**15, 10**16, 20_000) // 10 * 10 + 5  # 16 digits ending in 5
    values = np.concatenate(
        [
            10 ** rng.uniform(-12, 18, 20_000),
            np.round(rng.uniform(1, 1000, 20_000), 2),
            ties.astype(float) / 10.0 ** rng.integers(0, 20, len(ties)),
            [10.0**k for k in range(-12, 18)],
            [np.nextafter(10.0**k, 0) for k in range(-12, 18)],
        ]
    )
    m, e = _decimals(values)
    for value, digits, exponent in zip(values.tolist(), m.tolist(), e.tolist(), strict=True):
        if value < 1e-12:
            expected = Decimal(0)
        else:
            expected = min(Decimal(format(value, ".15g")), Decimal(10) ** 18)
        assert Decimal(digits).scaleb(exponent) == expected, value
