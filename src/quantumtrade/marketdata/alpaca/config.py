"""Settings of the Alpaca market data adapter.

Every endpoint is configurable, so the adapter can talk to Alpaca itself, a proxy, or any server
that speaks Alpaca's market data protocol (the test suite runs one locally).
"""

from __future__ import annotations

from dataclasses import dataclass, field

STOCK_FEEDS = frozenset({"iex", "sip"})
CRYPTO_FEEDS = frozenset({"us"})
ADJUSTMENTS = frozenset({"raw", "split", "dividend", "all"})


@dataclass(frozen=True, slots=True)
class AlpacaConfig:
    """Credentials, endpoints, feeds and reconnect policy for :class:`AlpacaMarketData`."""

    api_key: str
    secret_key: str = field(repr=False)
    feed: str = "iex"
    crypto_feed: str = "us"
    data_url: str = "https://data.alpaca.markets"
    stream_url: str = "wss://stream.data.alpaca.markets"
    crypto_stream_url: str = "wss://stream.data.alpaca.markets"
    # Corporate-action adjustment of historical stock bars: raw, split, dividend or all.
    adjustment: str = "raw"
    # Symbols :meth:`AlpacaMarketData.symbols` reports; Alpaca's data API has no asset list.
    watchlist: tuple[str, ...] = ()
    reconnect_initial_delay: float = 1.0
    reconnect_max_delay: float = 30.0
    # Alpaca allows one stream connection per feed; a 406 right after a reconnect usually
    # means the old session is not reaped yet, so retry this many times before giving up.
    connection_limit_retries: int = 5
    # Reconnect when no market data arrives for this long (None: never; quiet feeds are normal).
    data_timeout: float | None = None
    # Events buffered between the socket and the consumer; when full, reading pauses.
    stream_queue_size: int = 10_000
    ping_interval: float | None = 10.0
    ping_timeout: float | None = 30.0
    close_timeout: float = 2.0
    open_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.api_key or not self.secret_key:
            raise ValueError("Alpaca needs both an API key and a secret key")
        if self.feed not in STOCK_FEEDS:
            raise ValueError(f"unknown stock feed {self.feed!r}; use one of {sorted(STOCK_FEEDS)}")
        if self.crypto_feed not in CRYPTO_FEEDS:
            raise ValueError(f"unknown crypto feed {self.crypto_feed!r}")
        if self.adjustment not in ADJUSTMENTS:
            raise ValueError(f"unknown adjustment {self.adjustment!r}")
        if not 0 < self.reconnect_initial_delay <= self.reconnect_max_delay:
            raise ValueError("need 0 < reconnect_initial_delay <= reconnect_max_delay")
        if self.connection_limit_retries < 0:
            raise ValueError("connection_limit_retries must be >= 0")
        if self.data_timeout is not None and self.data_timeout <= 0:
            raise ValueError("data_timeout must be positive or None")
        if self.stream_queue_size < 1:
            raise ValueError("stream_queue_size must be >= 1")

    @property
    def stock_stream_endpoint(self) -> str:
        return f"{self.stream_url.rstrip('/')}/v2/{self.feed}"

    @property
    def crypto_stream_endpoint(self) -> str:
        return f"{self.crypto_stream_url.rstrip('/')}/v1beta3/crypto/{self.crypto_feed}"
