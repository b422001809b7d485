"""Structured logging: JSON lines, request context, redaction, and the database error sink."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog

from quantumtrade.core.settings import Settings
from quantumtrade.db.engine import create_engine, create_session_factory
from quantumtrade.db.models import Base, SystemLog
from quantumtrade.infra.logging import (
    REDACTED,
    SYSTEM_LOG_TABLE,
    SystemLogSink,
    bind_request_context,
    clear_request_context,
    configure_logging,
    get_request_id,
    install_system_log_sink,
    redact_secrets,
)


def make_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the logging and structlog configuration back as it was before the test."""
    root = logging.getLogger()
    root_state = (root.handlers[:], root.level)
    loggers = {
        name: (logger.handlers[:], logger.level, logger.propagate)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    structlog_config = structlog.get_config()
    clear_request_context()
    yield
    clear_request_context()
    structlog.configure(**structlog_config)
    for handler in root.handlers[:]:
        if handler not in root_state[0]:
            root.removeHandler(handler)
            handler.close()
    root.handlers[:] = root_state[0]
    root.setLevel(root_state[1])
    for name, logger in logging.root.manager.loggerDict.items():
        if not isinstance(logger, logging.Logger):
            continue
        if name in loggers:
            logger.handlers[:], level, logger.propagate = loggers[name]
            logger.setLevel(level)
        else:
            logger.setLevel(logging.NOTSET)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def our_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if (h.name or "").startswith("quantumtrade.")]


def test_json_mode_writes_one_object_per_line_with_request_id() -> None:
    stream = io.StringIO()
    configure_logging(make_settings(log_json=True, log_level="info"), stream=stream)
    log = structlog.get_logger("quantumtrade.test")

    log.info("order placed", symbol="AAPL", quantity=3)
    bind_request_context("req-123", user_id="u1")
    assert get_request_id() == "req-123"
    log.warning("slow fill")
    logging.getLogger("sqlalchemy.pool").warning("pool is %s", "tired")
    clear_request_context()
    log.debug("hidden below the level")

    first, second, third = json_lines(stream)
    assert first["event"] == "order placed"
    assert first["level"] == "info"
    assert first["symbol"] == "AAPL"
    assert first["quantity"] == 3
    assert first["timestamp"].endswith("Z")
    assert "request_id" not in first
    assert second["request_id"] == "req-123"
    assert second["user_id"] == "u1"
    assert second["logger"] == "quantumtrade.test"
    # A standard-library logger goes through the same formatter, context included.
    assert third == {
        "event": "pool is tired",
        "level": "warning",
        "logger": "sqlalchemy.pool",
        "request_id": "req-123",
        "user_id": "u1",
        "timestamp": third["timestamp"],
    }
    assert get_request_id() is None


def test_json_mode_renders_exceptions() -> None:
    stream = io.StringIO()
    configure_logging(make_settings(log_json=True), stream=stream)
    try:
        raise RuntimeError("exchange down")
    except RuntimeError:
        structlog.get_logger("quantumtrade.test").exception("fill failed")

    (line,) = json_lines(stream)
    assert line["level"] == "error"
    assert "RuntimeError: exchange down" in line["exception"]


def test_console_mode_is_readable_without_colours() -> None:
    stream = io.StringIO()
    configure_logging(make_settings(log_json=False), stream=stream)
    structlog.get_logger("quantumtrade.test").info("server ready", port=3001)

    text = stream.getvalue()
    assert "server ready" in text
    assert "port=3001" in text
    assert "\x1b[" not in text


def test_configure_twice_keeps_one_handler_each(tmp_path: Path) -> None:
    settings = make_settings(log_json=True, log_file=tmp_path / "logs" / "qt.log")
    configure_logging(settings, stream=io.StringIO())
    stream = io.StringIO()
    configure_logging(settings, stream=stream)

    assert sorted(h.name or "" for h in our_handlers()) == [
        "quantumtrade.console",
        "quantumtrade.file",
    ]
    structlog.get_logger("quantumtrade.test").info("once")
    assert len(json_lines(stream)) == 1


def test_log_file_is_json_even_in_console_mode(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "qt.log"
    configure_logging(make_settings(log_json=False, log_file=path), stream=io.StringIO())
    structlog.get_logger("quantumtrade.test").info("to the file", n=1)
    for handler in our_handlers():
        handler.flush()

    (line,) = [json.loads(x) for x in path.read_text().splitlines()]
    assert line["event"] == "to the file"
    assert line["n"] == 1


def test_redaction_processor_hides_secrets() -> None:
    event = {
        "event": "login",
        "email": "a@example.com",
        "Password": "hunter2",
        "body": {"new_password": "n3w", "nested": [{"refresh_token": "rt"}], "name": "x"},
        "Authorization": "Bearer abc",
        "jwt_secret": "s",
    }
    out = redact_secrets(None, "info", event)
    assert out["email"] == "a@example.com"
    assert out["Password"] == REDACTED
    assert out["Authorization"] == REDACTED
    assert out["jwt_secret"] == REDACTED
    assert out["body"]["new_password"] == REDACTED
    assert out["body"]["nested"][0]["refresh_token"] == REDACTED
    assert out["body"]["name"] == "x"


def test_redaction_applies_to_logged_lines_and_access_log_queries() -> None:
    stream = io.StringIO()
    configure_logging(make_settings(log_json=True), stream=stream)
    structlog.get_logger("quantumtrade.test").info("signup", password="hunter2", email="a@b.c")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", "/ws?token=abc&x=1", "1.1", 101
    )

    signup, access = json_lines(stream)
    assert signup["password"] == REDACTED
    assert "hunter2" not in stream.getvalue()
    assert "abc" not in stream.getvalue()
    assert access["path"] == "/ws?token=***&x=1"
    assert access["status_code"] == 101
    assert access["logger"] == "uvicorn.access"


async def store_errors_and_read_back(url: str) -> list[SystemLog]:
    """Log through an installed sink into a fresh database at ``url``; return the stored rows."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        factory = create_session_factory(engine)
        settings = make_settings(log_json=True, db_log_level="error")
        configure_logging(settings, stream=io.StringIO())
        sink = install_system_log_sink(settings)
        assert [h for h in logging.getLogger().handlers if isinstance(h, SystemLogSink)] == [sink]

        bind_request_context("req-9")
        try:
            raise ValueError("bad quantity")
        except ValueError:
            logging.getLogger("quantumtrade.orders").exception(
                "order %s rejected", 42, extra={"order_id": 42, "password": "p", "obj": object()}
            )
        structlog.get_logger("quantumtrade.ai").error("model failed", symbol="AAPL", score=0.5)
        clear_request_context()
        logging.getLogger("quantumtrade.orders").info("not stored")
        structlog.get_logger("quantumtrade.ai").warning("not stored either")
        logging.getLogger("quantumtrade.disk").critical("disk full")

        assert await sink.flush(factory) == 3
        assert sink.pending == 0
        async with factory() as session:
            rows = await session.scalars(sa.select(SystemLog).order_by(SystemLog.time))
            return list(rows.all())
    finally:
        await engine.dispose()


def assert_stored_rows(rows: list[SystemLog]) -> None:
    first, second, third = rows
    assert (first.level, first.logger, first.message) == (
        "error",
        "quantumtrade.orders",
        "order 42 rejected",
    )
    assert first.request_id == "req-9"
    assert abs(first.time - datetime.now(UTC)) < timedelta(minutes=5)
    assert first.context is not None
    assert "ValueError: bad quantity" in first.context["exception"]
    assert first.context["order_id"] == 42
    assert first.context["password"] == REDACTED
    assert first.context["obj"].startswith("<object object")
    assert first.context["exception_type"] == "ValueError"
    assert first.context["exception_message"] == "bad quantity"
    assert first.context["stack"][-1]["function"] == "store_errors_and_read_back"
    assert len(first.context["fingerprint"]) == 16
    assert (second.level, second.logger, second.message) == (
        "error",
        "quantumtrade.ai",
        "model failed",
    )
    assert second.request_id == "req-9"
    assert second.context is not None and third.context is not None
    # Without an exception, a record is fingerprinted by its logger and message.
    assert second.context.pop("fingerprint") != third.context.pop("fingerprint")
    assert second.context == {"symbol": "AAPL", "score": 0.5}
    assert (third.level, third.message, third.request_id, third.context) == (
        "critical",
        "disk full",
        None,
        {},
    )


async def test_sink_stores_errors_with_exception_text_on_sqlite(fresh_sqlite_url: str) -> None:
    assert_stored_rows(await store_errors_and_read_back(fresh_sqlite_url))


async def test_sink_stores_errors_with_exception_text_on_postgres(fresh_pg_url: str) -> None:
    assert_stored_rows(await store_errors_and_read_back(fresh_pg_url))


async def test_sink_ignores_records_logged_while_it_writes(fresh_sqlite_url: str) -> None:
    engine = create_engine(fresh_sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

        def log_during_write(*_args: Any) -> None:
            logging.getLogger("sqlalchemy.engine.test").error("logged by the writer's query")

        sa.event.listen(engine.sync_engine, "before_cursor_execute", log_during_write)
        sink = install_system_log_sink(make_settings(db_log_level="error"))
        logging.getLogger("quantumtrade.test").error("stored")

        # Without the guard each write queues a record for the next write, forever.
        stored = await asyncio.wait_for(sink.flush(create_session_factory(engine)), timeout=30)
        assert stored == 1
        assert sink.pending == 0
    finally:
        await engine.dispose()


async def test_sink_write_failure_is_reported_once_and_not_raised(
    fresh_sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(fresh_sqlite_url)  # no schema: every insert fails
    try:
        factory = create_session_factory(engine)
        sink = SystemLogSink(logging.ERROR)
        logger = logging.getLogger("quantumtrade.sinktest")
        logger.addHandler(sink)
        try:
            logger.error("first")
            assert await sink.flush(factory) == 0
            logger.error("second")
            assert await sink.flush(factory) == 0
        finally:
            logger.removeHandler(sink)
    finally:
        await engine.dispose()

    assert sink.failed == 2
    assert capsys.readouterr().err.count("cannot store error logs") == 1


def test_full_queue_drops_instead_of_blocking() -> None:
    sink = SystemLogSink(logging.ERROR, max_queue=2)
    logger = logging.getLogger("quantumtrade.droptest")
    logger.addHandler(sink)
    logger.propagate = False

    def log_five() -> None:
        for n in range(5):
            logger.error("error %d", n)

    # A blocking put would hang here; the join bound turns that into a failure.
    worker = threading.Thread(target=log_five, daemon=True)
    try:
        worker.start()
        worker.join(timeout=10)
    finally:
        logger.removeHandler(sink)

    assert not worker.is_alive()
    assert sink.pending == 2
    assert sink.dropped == 3


def test_sink_ignores_records_below_its_level() -> None:
    sink = SystemLogSink("ERROR")
    logger = logging.getLogger("quantumtrade.leveltest")
    logger.addHandler(sink)
    logger.propagate = False
    try:
        logger.warning("just a warning")
    finally:
        logger.removeHandler(sink)
    assert sink.pending == 0


def test_sink_sync_flush_is_a_no_op() -> None:
    # logging.shutdown() calls flush() with no argument on every handler at exit.
    assert SystemLogSink().flush() is None


def test_sink_table_matches_the_orm_model() -> None:
    orm = SystemLog.__table__
    assert SYSTEM_LOG_TABLE.name == orm.name
    assert set(SYSTEM_LOG_TABLE.c.keys()) == set(orm.c.keys())
