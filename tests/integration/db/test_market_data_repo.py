"""Bulk bar storage on SQLite and PostgreSQL: idempotent upserts, aggregation, COPY ingest."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade.db.repositories import latest_bar, load_bars, upsert_bars
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import Timeframe, resample_bars
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


@pytest.mark.parametrize(
    "timeframe", [Timeframe.MIN_5, Timeframe.MIN_15, Timeframe.HOUR_1, Timeframe.DAY_1]
)
async def test_aggregated_bars_equal_resampled_minutes(
    engine: AsyncEngine, timeframe: Timeframe
) -> None:
    bars = minutes()
    await upsert_bars(engine, "AAPL", Timeframe.MIN_1, bars, source="test")
    lo, hi = datetime(2025, 5, 6, 14, 7, tzinfo=UTC), datetime(2025, 5, 15, 17, 2, tzinfo=UTC)

    stored = await load_bars(engine, "AAPL", timeframe, lo, hi)

    expected = resample_bars(bars, timeframe)
    expected = expected[(expected.index >= lo) & (expected.index < hi)]
    assert len(stored) > 5
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, check_freq=False, rtol=1e-12)
    limited = await load_bars(engine, "AAPL", timeframe, lo, hi, limit=3)
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
