"""Money and UTCDateTime behave the same on SQLite and PostgreSQL, on the migrated schema."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade.db.engine import create_session_factory
from quantumtrade.db.models import Trade

AMOUNTS = (Decimal("12345678901.0123456789"), Decimal("0.1"), Decimal("-0.0000000001"))


class TypeContract:
    """Tests every backend runs; subclasses supply ``engine``, migrated to head."""

    async def test_money_round_trips_exactly(self, engine: AsyncEngine) -> None:
        sessions = create_session_factory(engine)
        executed_at = datetime.now(UTC)
        ids = {amount: uuid.uuid4() for amount in AMOUNTS}
        async with sessions.begin() as session:
            for amount, trade_id in ids.items():
                session.add(
                    Trade(
                        id=trade_id,
                        executed_at=executed_at,
                        portfolio_id=uuid.uuid4(),
                        symbol="AAPL",
                        side="buy",
                        qty=amount,
                        price=amount,
                    )
                )

        async with sessions() as session:
            for amount, trade_id in ids.items():
                trade = await session.get(Trade, (trade_id, executed_at))
                assert trade is not None
                for value in (trade.qty, trade.price):
                    assert isinstance(value, Decimal)
                    # Equal as numbers and digit for digit: no float ever carried the value.
                    assert value == amount
                    assert value.normalize() == amount.normalize()
                assert trade.commission == Decimal(0)

        async with engine.connect() as conn:
            raw = (
                await conn.execute(
                    sa.text("SELECT qty FROM trades WHERE id = :id").bindparams(
                        sa.bindparam("id", ids[AMOUNTS[0]], type_=sa.Uuid)
                    )
                )
            ).scalar_one()
        if engine.dialect.name == "sqlite":
            assert raw == "12345678901.0123456789"
        else:
            assert raw == AMOUNTS[0]

    async def test_money_refuses_non_finite(self, engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            with pytest.raises(sa.exc.StatementError, match="non-finite"):
                await conn.execute(
                    sa.insert(Trade.__table__).values(
                        id=uuid.uuid4(),
                        executed_at=datetime.now(UTC),
                        portfolio_id=uuid.uuid4(),
                        symbol="AAPL",
                        side="buy",
                        qty=Decimal("NaN"),
                        price=Decimal(1),
                        commission=Decimal(0),
                        fees=Decimal(0),
                        slippage=Decimal(0),
                        realized_pl=Decimal(0),
                    )
                )

    async def test_datetimes_come_back_aware_utc(self, engine: AsyncEngine) -> None:
        sessions = create_session_factory(engine)
        # The same instant as "now", written with a +05:30 offset.
        local = datetime.now(UTC).astimezone(timezone(timedelta(hours=5, minutes=30)))
        trade_id = uuid.uuid4()
        async with sessions.begin() as session:
            session.add(
                Trade(
                    id=trade_id,
                    executed_at=local,
                    portfolio_id=uuid.uuid4(),
                    symbol="MSFT",
                    side="sell",
                    qty=Decimal(2),
                    price=Decimal("410.5"),
                )
            )

        async with sessions() as session:
            stored = (await session.execute(sa.select(Trade.executed_at))).scalar_one()
        assert stored.tzinfo is UTC
        assert stored == local
        assert stored.utcoffset() == timedelta(0)

    async def test_naive_datetime_is_refused(self, engine: AsyncEngine) -> None:
        sessions = create_session_factory(engine)
        with pytest.raises(sa.exc.StatementError, match="naive"):
            async with sessions.begin() as session:
                session.add(
                    Trade(
                        executed_at=datetime(2025, 1, 2, 3, 4, 5),
                        portfolio_id=uuid.uuid4(),
                        symbol="AAPL",
                        side="buy",
                        qty=Decimal(1),
                        price=Decimal(1),
                    )
                )
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM trades"))).scalar_one() == 0


class TestSQLite(TypeContract):
    @pytest.fixture
    def engine(self, migrated_sqlite: AsyncEngine) -> AsyncEngine:
        return migrated_sqlite


class TestPostgres(TypeContract):
    @pytest.fixture
    def engine(self, migrated_pg: AsyncEngine) -> AsyncEngine:
        return migrated_pg
