"""Alpaca market data: historical bars, latest trades and quotes, and live streams."""

from quantumtrade.marketdata.alpaca.config import AlpacaConfig
from quantumtrade.marketdata.alpaca.errors import (
    AlpacaAuthError,
    AlpacaConnectionLimitError,
    AlpacaError,
    AlpacaSubscriptionError,
    AlpacaSymbolLimitError,
)
from quantumtrade.marketdata.alpaca.source import AlpacaMarketData

__all__ = [
    "AlpacaAuthError",
    "AlpacaConfig",
    "AlpacaConnectionLimitError",
    "AlpacaError",
    "AlpacaMarketData",
    "AlpacaSubscriptionError",
    "AlpacaSymbolLimitError",
]
