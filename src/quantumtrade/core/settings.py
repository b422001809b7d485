"""Application settings, read from the environment or a `.env` file.

Variable names follow the product spec (PORT, DB_HOST, JWT_SECRET, REDIS_HOST, ...). Settings are
built by :func:`load_settings`, never at import time, and :func:`check_production_safety` refuses
unsafe production configurations with a message naming the setting to fix.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_JWT_SECRET_BYTES = 32
DEFAULT_DB_PASSWORDS = frozenset(
    {"", "postgres", "password", "your_password", "changeme", "secret", "admin", "root"}
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class UnsafeConfigurationError(RuntimeError):
    """The configuration is not safe to run in production."""


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every tunable of the server. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        validation_alias=AliasChoices("ENVIRONMENT", "APP_ENV", "NODE_ENV"),
    )
    host: str = "127.0.0.1"
    port: int = Field(default=3001, ge=1, le=65535)
    data_dir: Path = Path("data")
    workers: int = Field(default=1, ge=1)

    # Database: DATABASE_URL wins; otherwise DB_HOST selects PostgreSQL; otherwise SQLite.
    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "quantumtrade"
    db_user: str = "postgres"
    db_password: str = ""
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_echo: bool = False
    auto_migrate: bool | None = None
    partition_months_ahead: int = Field(default=3, ge=1, le=24)

    # Cache and bus: REDIS_URL wins; otherwise REDIS_HOST; otherwise in-process.
    redis_url: str | None = None
    redis_host: str | None = None
    redis_port: int = 6379
    redis_password: str | None = None
    redis_prefix: str = "qt:"
    redis_retry_seconds: float = Field(default=2.0, gt=0)
    price_cache_ttl: int = Field(default=5, ge=1)
    portfolio_cache_ttl: int = Field(default=30, ge=1)

    # Auth
    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    access_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    password_reset_ttl_seconds: int = Field(default=30 * 60, ge=60)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    password_min_length: int = Field(default=10, ge=8, le=64)
    password_min_score: int = Field(default=3, ge=0, le=4)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)

    # HTTP
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Bar-file uploads (POST /api/backtest/datasets) get their own, larger limit.
    max_upload_bytes: int = Field(default=104_857_600, ge=1024)
    trust_proxy: bool = False
    rate_limit_enabled: bool = True
    rate_limit_max: int = Field(default=100, ge=1)
    rate_limit_window_seconds: int = Field(default=15 * 60, ge=1)
    # Per-endpoint overrides: {"POST /api/auth/login": "10/900"} (requests / window seconds).
    rate_limit_rules: dict[str, str] = Field(default_factory=dict)
    metrics_token: str | None = None

    # Logging
    log_level: str = "info"
    log_json: bool | None = None
    log_file: Path | None = None
    log_file_max_bytes: int = 10 * 1024 * 1024
    log_file_backups: int = 5
    db_log_level: str = "error"

    # Market data
    market_seed: int = 42
    market_always_open: bool = False
    # Start the server's clock at this moment (ISO 8601; UTC when no offset is given) and let
    # it run from there: a demo or a test can sit in a session, or on a weekend.
    market_clock_start: datetime | None = None
    market_ticks_per_second: float = Field(default=2.0, gt=0, le=100)
    market_feed_enabled: bool = True
    # Market regimes: one replica re-checks every symbol this often and pushes changes.
    regime_watch_enabled: bool = True
    regime_check_minutes: float = Field(default=60.0, gt=0, le=1440)
    regime_history_days: int = Field(default=3653, ge=200, le=20_000)  # daily bars read
    # Sentiment: one replica polls the news this often, scores, stores and pushes it, and
    # re-checks every symbol's aggregate sentiment every sentiment_check_minutes.
    sentiment_watch_enabled: bool = True
    sentiment_poll_seconds: float = Field(default=15.0, gt=0, le=3600)
    sentiment_check_minutes: float = Field(default=15.0, gt=0, le=1440)
    # AI decisions (see README "AI decisions"): one replica trains every symbol's models for
    # the default horizon at start-up, retrains them every ai_retrain_hours, records the
    # outcome of each decision once its horizon has passed, and pushes fresh decisions.
    ai_watch_enabled: bool = True
    ai_watch_minutes: float = Field(default=15.0, gt=0, le=1440)
    ai_retrain_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    ai_history_days: int = Field(default=2200, ge=400, le=20_000)  # daily bars trained on
    ai_default_horizon: int = Field(default=1, ge=1, le=20)
    ai_horizons: list[int] = Field(default_factory=lambda: [1, 5, 20])  # each a model set
    ai_decision_ttl_seconds: float = Field(default=300.0, gt=0, le=86_400)
    ai_seed: int = Field(default=0, ge=0)
    ai_train_workers: int = Field(default=1, ge=1, le=64)  # training processes of a replica
    ai_gbm_trees: int = Field(default=200, ge=1, le=5000)
    ai_lstm_epochs: int = Field(default=30, ge=0, le=500)
    ai_min_train_bars: int = Field(default=500, ge=100, le=10_000)
    ai_folds: int = Field(default=5, ge=2, le=20)
    ai_cost: float = Field(default=0.001, ge=0, le=0.1)  # round trip, as a fraction
    ai_edge_threshold: float = Field(default=0.0, ge=0, le=0.1)
    ai_kelly_fraction: float = Field(default=0.25, ge=0, le=1)
    ai_max_position_fraction: float = Field(default=0.10, ge=0, le=1)
    # Daily reports (see README "Daily reports"): one replica checks this often, by the
    # server's clock, whether a session has closed, then builds and announces its reports.
    reports_enabled: bool = True
    reports_check_minutes: float = Field(default=5.0, gt=0, le=1440)
    # Per symbol or asset class: {"crypto": "alpaca", "AAPL": "simulator"}; default below.
    market_data_sources: dict[str, str] = Field(default_factory=dict)
    market_data_default_source: str | None = None
    alpaca_data_url: str = "https://data.alpaca.markets"
    alpaca_stream_url: str = "wss://stream.data.alpaca.markets"
    alpaca_feed: str = "iex"
    ws_max_symbols: int = Field(default=200, ge=1)
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=256)
    ws_queue_size: int = Field(default=1000, ge=10)
    # Freeze what startup allocated out of the garbage collector's scans and collect less
    # often: full collections otherwise pause fan-out to every client for tens of ms.
    gc_tuning: bool = True
    ws_heartbeat_seconds: float = Field(default=20.0, gt=0)
    # Close clients silent this long. Off by default: browsers answer the server's protocol
    # pings (which find dead peers) but not JSON ones, so listen-only clients stay connected.
    ws_idle_timeout_seconds: float | None = Field(default=None, gt=0)
    # Alpaca-compatible data stream (/v2/{feed}, /v1beta3/crypto/us): distinct symbols one
    # connection may subscribe ("*" counts one), and connections per API key and endpoint on
    # one replica. Its send queue is ws_queue_size messages.
    alpaca_stream_max_symbols: int = Field(default=200, ge=1)
    alpaca_stream_max_connections: int = Field(default=1, ge=1)

    # Paper trading: execution models (see README "Paper trading")
    paper_starting_cash: Decimal = Field(default=Decimal(100_000), gt=0)
    paper_slippage: Literal["none", "fixed_bps", "spread", "sqrt_impact"] = "none"
    paper_slippage_bps: Decimal = Field(default=Decimal(5), ge=0)
    paper_slippage_spread_fraction: Decimal = Field(default=Decimal("0.5"), ge=0)
    paper_impact_coefficient: Decimal = Field(default=Decimal(1), ge=0)
    paper_impact_daily_volatility: Decimal = Field(default=Decimal("0.02"), ge=0)
    paper_commission: Literal["zero", "per_share", "percentage"] = "zero"
    paper_commission_rate: Decimal = Field(default=Decimal(0), ge=0)
    paper_commission_min: Decimal = Field(default=Decimal(0), ge=0)
    paper_commission_max: Decimal | None = Field(default=None, ge=0)
    paper_regulatory_fees: bool = False
    # At most this share of a 1-minute bar's volume fills per bar (None: no cap).
    paper_participation: Decimal | None = Field(default=None, gt=0, le=1)
    paper_random_partial_fills: bool = False
    paper_seed: int = 7
    # Market orders sent while the market is closed: queue them for the open, or refuse them.
    paper_outside_session: Literal["queue", "reject"] = "queue"
    paper_matching_enabled: bool = True
    # Group commit: simple market and limit orders share transactions, up to this many each,
    # with this many batches in flight per process (off: every order takes its own).
    paper_order_batching: bool = True
    paper_order_batch_max: int = Field(default=100, ge=1, le=1000)
    paper_order_batch_writers: int = Field(default=2, ge=1, le=16)
    # Risk snapshots (risk_metrics) and limit alerts: one replica sweeps this often.
    risk_monitor_enabled: bool = True
    risk_snapshot_minutes: float = Field(default=15.0, gt=0)

    # Backtest sweeps: a Dask scheduler (tcp://host:8786); unset runs a local process pool.
    dask_scheduler_address: str | None = None

    # Integrations
    alpaca_api_key: str | None = None
    alpaca_secret_key: str | None = None
    polygon_api_key: str | None = None
    news_api_key: str | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("log_level", "db_log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error", "critical"}:
            raise ValueError("must be one of debug, info, warning, error, critical")
        return level

    @field_validator("market_clock_start")
    @classmethod
    def _clock_start_in_utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("rate_limit_rules")
    @classmethod
    def _check_rules(cls, rules: dict[str, str]) -> dict[str, str]:
        for route, rule in rules.items():
            parse_rate_rule(rule, where=route)
        return rules

    @property
    def alpaca_configured(self) -> bool:
        return bool(self.alpaca_api_key and self.alpaca_secret_key)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def sqlalchemy_url(self) -> str:
        """Return the async SQLAlchemy URL of the configured database."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        if self.db_host:
            user = quote(self.db_user, safe="")
            password = quote(self.db_password, safe="")
            auth = f"{user}:{password}" if password else user
            return f"postgresql+asyncpg://{auth}@{self.db_host}:{self.db_port}/{self.db_name}"
        return f"sqlite+aiosqlite:///{(self.data_dir / 'quantumtrade.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def effective_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
            return f"redis://{auth}{self.redis_host}:{self.redis_port}/0"
        return None

    @property
    def should_auto_migrate(self) -> bool:
        return self.auto_migrate if self.auto_migrate is not None else self.is_sqlite

    @property
    def use_json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.is_production

    def database_password(self) -> str:
        """Return the database password in effect, whichever way it was given."""
        if self.database_url:
            return urlsplit(normalize_database_url(self.database_url)).password or ""
        return self.db_password


def parse_rate_rule(rule: str, *, where: str = "rule") -> tuple[int, int]:
    """Parse ``"LIMIT/WINDOW_SECONDS"`` into a pair of positive integers."""
    try:
        limit_text, window_text = rule.split("/")
        limit, window = int(limit_text), int(window_text)
    except ValueError as exc:
        raise ValueError(f"{where}: expected 'LIMIT/WINDOW_SECONDS', got {rule!r}") from exc
    if limit < 1 or window < 1:
        raise ValueError(f"{where}: limit and window must be positive, got {rule!r}")
    return limit, window


def normalize_database_url(url: str) -> str:
    """Map plain ``postgres://`` and ``sqlite://`` URLs onto the async drivers we use."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def check_production_safety(settings: Settings) -> None:
    """Raise :class:`UnsafeConfigurationError` naming every unsafe production setting."""
    if not settings.is_production:
        return
    problems: list[str] = []
    secret = settings.jwt_secret or ""
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        problems.append(
            f"JWT_SECRET is missing or shorter than {MIN_JWT_SECRET_BYTES} bytes; "
            'set it to a long random value, e.g. python -c "import secrets; '
            'print(secrets.token_urlsafe(48))"'
        )
    if not settings.is_sqlite and settings.database_password() in DEFAULT_DB_PASSWORDS:
        problems.append(
            "DB_PASSWORD (or the password in DATABASE_URL) is empty or a well-known default; "
            "set a strong database password"
        )
    if "*" in settings.cors_origins and settings.cors_allow_credentials:
        problems.append(
            "CORS_ORIGINS is '*' while CORS_ALLOW_CREDENTIALS is true; list the allowed "
            "origins explicitly or set CORS_ALLOW_CREDENTIALS=false"
        )
    if problems:
        raise UnsafeConfigurationError(
            "refusing to start in production:\n  - " + "\n  - ".join(problems)
        )


def _development_secret(data_dir: Path) -> str:
    """Return the development JWT secret kept in the data directory, creating it once."""
    path = data_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and `.env`), applying explicit overrides.

    Fails fast with :class:`UnsafeConfigurationError` on unsafe production settings. Outside
    production a missing JWT secret is replaced by one generated once and kept in DATA_DIR
    (development) or by a per-process random one (test).
    """
    settings = Settings(**overrides)
    check_production_safety(settings)
    if not settings.jwt_secret:
        if settings.environment is Environment.DEVELOPMENT:
            secret = _development_secret(settings.data_dir)
        else:
            secret = secrets.token_urlsafe(48)
        settings = settings.model_copy(update={"jwt_secret": secret})
    return settings
