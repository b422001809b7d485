"""The app factory: the composition root that builds every shared resource and wires the API."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade import __version__
from quantumtrade.api.alpaca import account as alpaca_account
from quantumtrade.api.alpaca import data as alpaca_data
from quantumtrade.api.alpaca import data_stream as alpaca_data_stream
from quantumtrade.api.alpaca import market as alpaca_market
from quantumtrade.api.alpaca import orders as alpaca_orders
from quantumtrade.api.alpaca import stream as alpaca_stream
from quantumtrade.api.alpaca import watchlists as alpaca_watchlists
from quantumtrade.api.errors import install_error_handlers
from quantumtrade.api.middleware import (
    BodySizeLimitMiddleware,
    MethodNotAllowedMiddleware,
    RateLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from quantumtrade.api.routers import admin as admin_router
from quantumtrade.api.routers import ai as ai_router
from quantumtrade.api.routers import alerts as alerts_router
from quantumtrade.api.routers import api_keys as api_keys_router
from quantumtrade.api.routers import auth as auth_router
from quantumtrade.api.routers import backtests as backtests_router
from quantumtrade.api.routers import datasets as datasets_router
from quantumtrade.api.routers import journal as journal_router
from quantumtrade.api.routers import market as market_router
from quantumtrade.api.routers import orders as orders_router
from quantumtrade.api.routers import portfolios as portfolios_router
from quantumtrade.api.routers import regime as regime_router
from quantumtrade.api.routers import reports as reports_router
from quantumtrade.api.routers import risk as risk_router
from quantumtrade.api.routers import risk_limits as risk_limits_router
from quantumtrade.api.routers import sentiment as sentiment_router
from quantumtrade.api.routers import system as system_router
from quantumtrade.api.ws import router as ws_router
from quantumtrade.core.settings import Settings, load_settings, parse_rate_rule
from quantumtrade.db import migrate, timeseries
from quantumtrade.db.bar_store import StoredBars
from quantumtrade.db.engine import create_engine, create_session_factory
from quantumtrade.domain.clock import Clock, ShiftedClock, SystemClock
from quantumtrade.infra.bus import create_bus
from quantumtrade.infra.cache import create_cache
from quantumtrade.infra.logging import configure_logging, install_system_log_sink
from quantumtrade.infra.metrics import Metrics
from quantumtrade.infra.ratelimit import RateLimiter
from quantumtrade.marketdata.information import InformationRouter, InformationSource
from quantumtrade.marketdata.registry import SourceFactory, SourceRouter
from quantumtrade.marketdata.simulator.information import SimulatedInformation
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.services import realtime
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.ai._watch import AiWatch
from quantumtrade.services.backtests import BacktestRunner
from quantumtrade.services.container import Container
from quantumtrade.services.notifier import OutboxNotifier
from quantumtrade.services.regime._watch import RegimeWatch
from quantumtrade.services.reports._scheduler import ReportScheduler
from quantumtrade.services.risk.monitor import RiskMonitor
from quantumtrade.services.sentiment._watch import SentimentWatch
from quantumtrade.services.trading.batch import OrderBatcher
from quantumtrade.services.trading.desk import TradingDesk
from quantumtrade.services.trading.engine import MatchingEngine

if TYPE_CHECKING:
    from quantumtrade.marketdata.alpaca import AlpacaConfig

log = structlog.get_logger(__name__)

PARTITION_MAINTENANCE_SECONDS = 6 * 3600
SHUTDOWN_GRACE_SECONDS = 5.0


async def _migrate_embedded(container: Container) -> None:
    """Bring the embedded database to the latest schema; one process at a time."""
    settings = container.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = Path(settings.data_dir) / ".migrate.lock"
    with lock_path.open("w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            await migrate.upgrade(container.engine)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def _run_logged(name: str, job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` once; a failure is logged, never fatal."""
    try:
        await job()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background job failed", job=name)


async def _every(
    seconds: float, name: str, job: Callable[[], Awaitable[object]], *, now: bool = True
) -> None:
    """Run ``job`` every ``seconds`` (first right away, unless ``now`` is false)."""
    if not now:
        await asyncio.sleep(seconds)
    while True:
        await _run_logged(name, job)
        stop_if_cancelled()
        await asyncio.sleep(seconds)


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Create the shared resources (nothing connects until first use)."""
    engine = create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        echo=settings.db_echo,
    )
    if clock is None:
        start = settings.market_clock_start
        clock = ShiftedClock(start) if start is not None else SystemClock()
    market = build_market(settings, engine, clock)
    return Container(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        cache=create_cache(settings),
        bus=create_bus(settings),
        clock=clock,
        metrics=Metrics(),
        notifier=OutboxNotifier(settings.environment),
        market=market,
        information=build_information(settings, market),
    )


def build_market(settings: Settings, engine: AsyncEngine, clock: Clock) -> SourceRouter:
    """Create the market data sources and route each symbol to the configured one."""
    simulator = SimulatedMarket(
        seed=settings.market_seed,
        clock=clock,
        always_open=settings.market_always_open,
        ticks_per_second=settings.market_ticks_per_second,
    )
    file_symbols = [
        key
        for key, name in settings.market_data_sources.items()
        if name == "file" and key not in ("us_equity", "crypto")
    ]
    stored = StoredBars(
        engine,
        symbols=file_symbols,
        describe=lambda symbol: SymbolInfo(
            symbol=symbol,
            name=symbol,
            asset_class="crypto" if "/" in symbol else "us_equity",
            exchange="FILE",
        ),
    )
    factories: dict[str, SourceFactory] = {"simulator": lambda: simulator, "file": lambda: stored}
    alpaca = _alpaca_factory(settings)
    if alpaca is not None:
        factories["alpaca"] = alpaca
    default = settings.market_data_default_source or ("alpaca" if alpaca else "simulator")
    return SourceRouter(
        factories,
        default=default,
        routes=settings.market_data_sources,
        calendar=simulator.calendar,
    )


def build_information(settings: Settings, market: SourceRouter) -> InformationRouter:
    """Create the information sources: each symbol's follows the source of its prices."""
    simulator = market.source("simulator")
    assert isinstance(simulator, SimulatedMarket)
    sources: dict[str, InformationSource] = {"simulator": SimulatedInformation(simulator)}
    config = _alpaca_config(settings)
    if config is not None:
        from quantumtrade.marketdata.alpaca import AlpacaNews
        from quantumtrade.marketdata.alpaca.information import AlpacaInformation

        sources["alpaca"] = AlpacaInformation(AlpacaNews(config))
    return InformationRouter(sources, source_for=market.source_name_for, default=market.default)


def _alpaca_config(settings: Settings) -> AlpacaConfig | None:
    """Return the Alpaca connection settings, or None when no credentials are set."""
    if not settings.alpaca_configured:
        return None
    from quantumtrade.marketdata.alpaca import AlpacaConfig

    return AlpacaConfig(
        api_key=settings.alpaca_api_key or "",
        secret_key=settings.alpaca_secret_key or "",
        feed=settings.alpaca_feed,
        data_url=settings.alpaca_data_url,
        stream_url=settings.alpaca_stream_url,
        crypto_stream_url=settings.alpaca_stream_url,
    )


def _alpaca_factory(settings: Settings) -> SourceFactory | None:
    """Return a factory of the Alpaca source when credentials are set and the adapter exists."""
    config = _alpaca_config(settings)
    if config is None:
        return None
    # Imported here so the SDK loads only when Alpaca is in use.
    from quantumtrade.marketdata.alpaca import AlpacaMarketData

    return lambda: AlpacaMarketData(config)


GC_THRESHOLDS = (50_000, 50, 1_000)


def tune_garbage_collector() -> None:
    """Keep the cyclic garbage collector from pausing a busy server.

    Objects alive after startup (modules, the container, caches) move to the permanent
    generation, which full collections do not scan, and collections run after 50,000 new
    container objects instead of 700. Measured with ``benchmarks/bench_ws_fanout.py``: at 1,000
    clients, full collections set the p99 tick latency.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the FastAPI application for ``settings`` (read from the environment if omitted)."""
    settings = settings or load_settings()
    container = build_container(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sink = install_system_log_sink(settings)
        app.state.system_log_sink = sink
        tasks: list[asyncio.Task[None]] = []
        try:
            if settings.should_auto_migrate:
                await _migrate_embedded(container)
            tasks.append(asyncio.create_task(sink.run_writer(container.session_factory)))
            for name, job in container.background_jobs.items():
                tasks.append(asyncio.create_task(job(), name=name))
            if not settings.is_sqlite:

                def maintain() -> Awaitable[object]:
                    return timeseries.maintain_partitions(
                        container.engine,
                        now=container.clock.now(),
                        months_ahead=settings.partition_months_ahead,
                    )

                # Once before serving: a fill booked at once must find its month's partition.
                await _run_logged("partition maintenance", maintain)
                tasks.append(
                    asyncio.create_task(
                        _every(
                            PARTITION_MAINTENANCE_SECONDS,
                            "partition maintenance",
                            maintain,
                            now=False,
                        )
                    )
                )
            if settings.gc_tuning:
                tune_garbage_collector()
            log.info(
                "server ready",
                version=__version__,
                environment=settings.environment.value,
                database=container.engine.dialect.name,
                cache=container.cache.backend,
            )
            yield
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                # Never let one stuck job keep the server from exiting.
                _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
                for task in stuck:
                    log.warning("background job did not stop in time", job=task.get_name())
            with contextlib.suppress(Exception):
                await backtest_runner.shutdown()  # unfinished runs are marked failed
            for close in container.closers:
                with contextlib.suppress(Exception):
                    await close()
            with contextlib.suppress(Exception):
                await sink.flush(container.session_factory)
            logging.getLogger().removeHandler(sink)
            await container.market.close()
            if container.information is not None:
                await container.information.close()
            await container.bus.close()
            await container.cache.close()
            await container.engine.dispose()

    desk = TradingDesk.create(container)
    backtest_runner = BacktestRunner()
    matching = MatchingEngine(desk)

    async def observe(message: dict[str, Any]) -> None:
        desk.observe(message)

    realtime.attach(container, hooks=[observe])
    if settings.paper_matching_enabled:
        container.add_background_job("matching_engine", matching.run)
        container.register_health_check("matching_engine", matching.health)
    monitor = RiskMonitor(desk, interval_seconds=settings.risk_snapshot_minutes * 60)
    if settings.risk_monitor_enabled:
        container.add_background_job("risk_monitor", monitor.run)
    regime_watch = RegimeWatch(container, interval_seconds=settings.regime_check_minutes * 60)
    if settings.regime_watch_enabled:
        container.add_background_job("regime_watch", regime_watch.run)
    sentiment_watch = SentimentWatch(
        container,
        poll_seconds=settings.sentiment_poll_seconds,
        check_seconds=settings.sentiment_check_minutes * 60,
    )
    if settings.sentiment_watch_enabled:
        container.add_background_job("sentiment_watch", sentiment_watch.run)
    ai_watch = AiWatch(container, interval_seconds=settings.ai_watch_minutes * 60)
    if settings.ai_watch_enabled:
        container.add_background_job("ai_watch", ai_watch.run)
    report_scheduler = ReportScheduler(
        container, interval_seconds=settings.reports_check_minutes * 60
    )
    if settings.reports_enabled:
        container.add_background_job("report_scheduler", report_scheduler.run)

    app = FastAPI(
        title="QuantumTrade API",
        version=__version__,
        description=(
            "AI-assisted algorithmic trading backend: auth, paper trading, market data, risk, "
            "backtests. Errors always use the body "
            '`{"error": {"code": ..., "message": ..., "details": ...}}`.'
        ),
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.trading = desk
    app.state.order_batcher = OrderBatcher(
        desk,
        max_batch=settings.paper_order_batch_max,
        # SQLite has one writer: a second batch in flight would only wait for the first.
        writers=1 if settings.is_sqlite else settings.paper_order_batch_writers,
    )
    app.state.matching_engine = matching
    app.state.risk_monitor = monitor
    app.state.regime_watch = regime_watch
    app.state.sentiment_watch = sentiment_watch
    app.state.ai_watch = ai_watch
    app.state.report_scheduler = report_scheduler
    app.state.backtests = backtest_runner
    install_error_handlers(app)
    # Routers are matched in this order, route by route: the busiest paths (orders) go first.
    app.include_router(orders_router.router)
    app.include_router(auth_router.router)
    app.include_router(api_keys_router.router)
    app.include_router(system_router.router)
    app.include_router(admin_router.router)
    app.include_router(market_router.router)
    app.include_router(alerts_router.router)
    app.include_router(portfolios_router.router)
    app.include_router(risk_limits_router.router)
    app.include_router(risk_router.router)
    app.include_router(datasets_router.router)  # before /api/backtest/{id}
    app.include_router(regime_router.router)
    app.include_router(sentiment_router.router)
    app.include_router(ai_router.router)
    app.include_router(journal_router.router)
    app.include_router(reports_router.router)
    app.include_router(reports_router.admin_router)
    app.include_router(backtests_router.router)
    app.include_router(ws_router.router)
    # The Alpaca-compatible face (its own schemas, auth by API key): /v2/... and /stream.
    app.include_router(alpaca_orders.router)
    app.include_router(alpaca_account.router)
    app.include_router(alpaca_market.router)
    app.include_router(alpaca_data.router)
    app.include_router(alpaca_stream.router)
    app.include_router(alpaca_data_stream.router)
    app.include_router(alpaca_watchlists.router)

    # Added innermost first: the request context wraps everything, so every answer is measured.
    app.add_middleware(MethodNotAllowedMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
        )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger={
            datasets_router.UPLOAD_PATH: settings.max_upload_bytes,
            sentiment_router.ANALYZE_PATH: sentiment_router.ANALYZE_MAX_BYTES,
            ai_router.EVALUATE_PATH: ai_router.EVALUATE_MAX_BYTES,
        },
    )
    if settings.rate_limit_enabled:
        limiter = RateLimiter(
            container.cache,
            default=(settings.rate_limit_max, settings.rate_limit_window_seconds),
            rules={
                route: parse_rate_rule(rule, where=route)
                for route, rule in settings.rate_limit_rules.items()
            },
        )
        app.add_middleware(RateLimitMiddleware, limiter=limiter, trust_proxy=settings.trust_proxy)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=container.metrics)
    return app


def create_app_from_env() -> FastAPI:
    """Uvicorn factory: settings and logging from the environment."""
    settings = load_settings()
    configure_logging(settings, access_log=False)
    return create_app(settings)
