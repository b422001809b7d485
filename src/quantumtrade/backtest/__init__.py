"""Backtesting: strategies producing target positions, and (later) the engine that trades them."""
