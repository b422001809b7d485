"""ORM tables. Import this package to register every table on ``Base.metadata``."""

from quantumtrade.db.models.analytics import (
    AIDecision,
    AIJob,
    AIModel,
    BacktestDataset,
    BacktestResult,
    PerformanceMetric,
    RiskMetric,
)
from quantumtrade.db.models.auth import (
    ApiKey,
    AuthSession,
    NotificationOutbox,
    PasswordResetToken,
    RefreshToken,
    User,
)
from quantumtrade.db.models.base import Base, timeseries_tables
from quantumtrade.db.models.journal import JournalEntry, JournalState
from quantumtrade.db.models.market import Alert, MarketData, RegimeChange, SentimentData
from quantumtrade.db.models.reports import DailyReport
from quantumtrade.db.models.system import SystemLog
from quantumtrade.db.models.trading import (
    LedgerEntry,
    Order,
    OrderEvent,
    Portfolio,
    Position,
    Trade,
    Watchlist,
)

__all__ = [
    "AIDecision",
    "AIJob",
    "AIModel",
    "Alert",
    "ApiKey",
    "AuthSession",
    "BacktestDataset",
    "BacktestResult",
    "Base",
    "DailyReport",
    "JournalEntry",
    "JournalState",
    "LedgerEntry",
    "MarketData",
    "NotificationOutbox",
    "Order",
    "OrderEvent",
    "PasswordResetToken",
    "PerformanceMetric",
    "Portfolio",
    "Position",
    "RefreshToken",
    "RegimeChange",
    "RiskMetric",
    "SentimentData",
    "SystemLog",
    "Trade",
    "User",
    "Watchlist",
    "timeseries_tables",
]
