"""Repositories: bulk reads and writes that bypass the ORM where volume demands it."""

from quantumtrade.db.repositories.market_data import (
    latest_bar,
    load_bars,
    stored_symbols,
    upsert_bars,
)

__all__ = ["latest_bar", "load_bars", "stored_symbols", "upsert_bars"]
