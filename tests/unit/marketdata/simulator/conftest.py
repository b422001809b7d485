"""Shared simulator fixtures: one market per session on a clock that never moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket

# A Monday evening, after the close, so that whole sessions before it are history.
NOW = datetime(2025, 1, 6, 23, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def market() -> SimulatedMarket:
    """Return the default market; tests must not move its clock."""
    return SimulatedMarket(seed=42, clock=FixedClock(NOW))


@pytest.fixture(scope="session")
def other_seed_market() -> SimulatedMarket:
    return SimulatedMarket(seed=7, clock=FixedClock(NOW))
