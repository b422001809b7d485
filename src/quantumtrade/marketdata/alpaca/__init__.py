"""Alpaca market data: historical bars, latest trades and quotes, news, and live streams."""

from quantumtrade.domain.news import NewsItem
from quantumtrade.marketdata.alpaca.config import AlpacaConfig
from quantumtrade.marketdata.alpaca.errors import (
    AlpacaAuthError,
    AlpacaConnectionLimitError,
    AlpacaError,
    AlpacaSubscriptionError,
    AlpacaSymbolLimitError,
)
from quantumtrade.marketdata.alpaca.news import AlpacaNews
from quantumtrade.marketdata.alpaca.source import AlpacaMarketData

__all__ = [
    "AlpacaAuthError",
    "AlpacaConfig",
    "AlpacaConnectionLimitError",
    "AlpacaError",
    "AlpacaMarketData",
    "AlpacaNews",
    "AlpacaSubscriptionError",
    "AlpacaSymbolLimitError",
    "NewsItem",
]
