"""The PostgreSQL batch store's one write statement, and the numbers it sends as text."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from quantumtrade.db.models import LedgerEntry, Order, OrderEvent, Portfolio, Position, Trade
from quantumtrade.services.trading import batch_store
from quantumtrade.services.trading.batch_store import _numeric_text


def test_numbers_go_as_their_exact_text() -> None:
    assert _numeric_text(Decimal("0.1234567890")) == "0.1234567890"
    assert _numeric_text(Decimal("-1E+3")) == "-1E+3"  # PostgreSQL reads the exponent form
    assert _numeric_text(7) == "7"
    assert _numeric_text(None) is None


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_numbers_are_refused_as_money_refuses_them(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        _numeric_text(bad)


def test_the_write_statement_numbers_one_parameter_per_column() -> None:
    sql = batch_store._SQL["write"]
    numbers = [int(n) for n in re.findall(r"\$(\d+)", sql)]
    inserted = sum(len(batch_store._INSERTED_COLUMNS[model]) for model, _ in batch_store.INSERTED)
    updated = 1 + len(batch_store.POSITION_FIELDS) + 1 + len(batch_store.PORTFOLIO_FIELDS)
    assert sorted(numbers) == list(range(1, inserted + updated + 2))  # + portfolios' updated_at
    for model in (Order, Position, OrderEvent, LedgerEntry, Trade):
        assert f"INSERT INTO {model.__tablename__} (" in sql
    assert "id" not in batch_store._INSERTED_COLUMNS[OrderEvent]  # the database numbers events
    # Every money column is sent as text and read back by the server as NUMERIC.
    numeric = batch_store._NUMERIC
    expected = sum(len(numeric[model]) for model, _skip in batch_store.INSERTED)
    expected += len(numeric[Position] & set(batch_store.POSITION_FIELDS))
    expected += len(numeric[Portfolio] & set(batch_store.PORTFOLIO_FIELDS))
    assert expected > 0
    assert sql.count("::text[]::numeric[]") == expected
