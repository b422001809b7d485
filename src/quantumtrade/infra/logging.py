"""Structured logging for the whole process, and a sink that keeps errors in the database.

:func:`configure_logging` sends structlog and standard-library loggers (uvicorn, SQLAlchemy, ...)
through one pipeline: JSON lines in production, readable lines in development, ISO UTC timestamps,
secrets redacted, and the current request's ``request_id`` on every line. Run uvicorn with
``log_config=None`` so it keeps this configuration instead of installing its own handlers.

:class:`SystemLogSink` queues error records; :meth:`SystemLogSink.run_writer` stores them in the
``system_logs`` table in batches, off the logging caller's path. Each row's ``context`` carries
the record's fields, the request's method and path, and for an exception its traceback text
(``exception``), type, frames (``stack``) and a ``fingerprint`` that groups repeats of one
failure (:mod:`quantumtrade.infra.fingerprint`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import logging.handlers
import math
import queue
import sys
import traceback
import uuid
from collections.abc import Coroutine, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TextIO, overload
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.typing import EventDict, Processor, WrappedLogger

from quantumtrade.core.settings import Settings
from quantumtrade.infra.fingerprint import ExcInfo, describe

REDACTED = "***"
SENSITIVE_KEYS = frozenset({"authorization", "api_key", "cookie", "password", "secret", "token"})
# The suffixes cover the other spellings: new_password, current_password, refresh_token,
# access_token, jwt_secret, db_password, alpaca_secret_key, ...
_SENSITIVE_SUFFIXES = ("password", "_secret", "_token", "_api_key", "_secret_key", "_cookie")

_HANDLER_NAMES = frozenset({"quantumtrade.console", "quantumtrade.file"})
# Uvicorn installs its own handlers; ours take over so every line has one format.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Libraries that narrate every operation at DEBUG/INFO and would drown a debug log.
_CHATTY_LOGGERS = (
    "aiosqlite",
    "asyncio",
    "httpcore",
    "httpx",
    "multipart",
    "watchfiles",
    "alembic.runtime.plugins",
)
_MAX_DEPTH = 6

# Set while the sink writes, so records raised by the write itself are not queued again.
_WRITING_SYSTEM_LOGS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "quantumtrade_writing_system_logs", default=False
)
# The method and path of the request being served: kept with stored error records only, so the
# console lines (which name them once, on the access line) stay as they are.
_HTTP_REQUEST: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "quantumtrade_http_request", default=None
)
# infra may import only core, so the sink writes through this Core view of the ORM table
# quantumtrade.db.models.system.SystemLog rather than the class itself; a test keeps them in step.
SYSTEM_LOG_TABLE = sa.table(
    "system_logs",
    sa.column("id", sa.Uuid()),
    sa.column("time", sa.DateTime(timezone=True)),
    sa.column("level", sa.String()),
    sa.column("logger", sa.String()),
    sa.column("message", sa.Text()),
    sa.column("request_id", sa.String()),
    sa.column(
        "context",
        sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
    ),
)
_LOGRECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_NOT_CONTEXT = frozenset(
    {"event", "level", "logger", "timestamp", "request_id", "exc_info", "stack_info"}
)


def _level(name: str) -> int:
    return logging.getLevelNamesMapping()[name.upper()]


def _record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields passed with ``extra=``: what a bare LogRecord does not have."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _LOGRECORD_ATTRS and not key.startswith("_")
    }


# -- request context ---------------------------------------------------------------------------


def bind_request_context(request_id: str, **kw: Any) -> None:
    """Attach ``request_id`` (and any other fields) to every line logged in this context."""
    structlog.contextvars.bind_contextvars(request_id=request_id, **kw)


def bind_http_request(method: str, path: str) -> None:
    """Name the HTTP request being served, for the error records stored in this context."""
    _HTTP_REQUEST.set((method, path))


def clear_request_context() -> None:
    """Forget the fields bound for the current request."""
    structlog.contextvars.clear_contextvars()
    _HTTP_REQUEST.set(None)


def get_request_id() -> str | None:
    """Return the request id bound in this context, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return None if value is None else str(value)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger that goes through the standard-library pipeline."""
    return structlog.stdlib.get_logger(name)


# -- redaction ---------------------------------------------------------------------------------


def is_sensitive_key(key: object) -> bool:
    """Tell whether a field with this name may hold a secret."""
    return isinstance(key, str) and _sensitive_name(key)


@functools.lru_cache(maxsize=4096)  # every log line asks about the same few field names
def _sensitive_name(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return name in SENSITIVE_KEYS or name.endswith(_SENSITIVE_SUFFIXES)


# Values that cannot nest a secret: the usual fields of a log line skip the container checks.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _redact(value: Any, depth: int = 0) -> Any:
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_sensitive_key(key) else _redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item, depth + 1) for item in value]
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace the values of secret-looking fields, at any nesting depth, with ``***``."""
    for key, value in event_dict.items():
        if key.startswith("_"):
            continue  # structlog's own bookkeeping (the LogRecord), never rendered
        if is_sensitive_key(key):
            event_dict[key] = REDACTED
        elif type(value) not in _SCALARS and isinstance(value, Mapping | list | tuple):
            event_dict[key] = _redact(value)
    return event_dict


def _redact_query(path: str) -> str:
    parts = urlsplit(path)
    if not parts.query:
        return path
    pairs = [
        (key, REDACTED if is_sensitive_key(key) else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="*")))


def _foreign_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Add a standard-library record's ``extra`` fields; structure uvicorn's access line."""
    args = event_dict.pop("positional_args", ())
    record = event_dict.get("_record")
    if record is None:
        return event_dict
    # Not structlog's ExtraAdder: it would also copy ``message``, which another handler's
    # formatter may have set to the raw text, secrets included.
    for key, value in _record_extras(record).items():
        event_dict.setdefault(key, value)
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        client, method, path, http_version, status = args
        path = _redact_query(str(path))
        event_dict["event"] = f'{client} - "{method} {path} HTTP/{http_version}" {status}'
        event_dict.update(client=client, method=method, path=path, status_code=status)
    return event_dict


# -- configuration -----------------------------------------------------------------------------


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _formatter(*, json_lines: bool, colors: bool = False) -> structlog.stdlib.ProcessorFormatter:
    renderer: list[Processor]
    if json_lines:
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Rich tracebacks are for terminals; piped output gets the plain, greppable kind.
        console = (
            # Never show_locals: a frame's locals can hold passwords and tokens.
            structlog.dev.ConsoleRenderer(
                colors=True,
                exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
            )
            if colors
            else structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        )
        renderer = [console]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), _foreign_fields, redact_secrets],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        pass_foreign_args=True,
    )


def configure_logging(
    settings: Settings, *, stream: TextIO | None = None, access_log: bool = True
) -> None:
    """Route structlog and the standard library through one formatter; safe to call again.

    ``stream`` defaults to standard error. With ``settings.log_file`` set, JSON lines also go to
    a rotating file.
    """
    level = _level(settings.log_level)
    # No line renders a record's call site, thread or process, so the standard library need
    # not look them up for every record (the logging HOWTO's "Optimization" settings).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            redact_secrets,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # The chain above is the same for every settings value, so cached loggers stay correct
        # when this runs again; only the handlers below depend on settings.
        cache_logger_on_first_use=True,
    )

    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.name in _HANDLER_NAMES:
            root.removeHandler(handler)
            handler.close()

    out = stream if stream is not None else sys.stderr
    isatty = getattr(out, "isatty", None)
    console = logging.StreamHandler(out)
    console.name = "quantumtrade.console"
    console.setLevel(level)
    console.setFormatter(
        _formatter(json_lines=settings.use_json_logs, colors=bool(isatty and isatty()))
    )
    root.addHandler(console)

    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            settings.log_file,
            maxBytes=settings.log_file_max_bytes,
            backupCount=settings.log_file_backups,
            encoding="utf-8",
            delay=True,
        )
        file_handler.name = "quantumtrade.file"
        file_handler.setLevel(level)
        file_handler.setFormatter(_formatter(json_lines=True))
        root.addHandler(file_handler)

    sink_levels = [h.level for h in root.handlers if isinstance(h, SystemLogSink)]
    root.setLevel(min([level, *sink_levels]))

    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    if not access_log:
        # The request middleware already logs each request with its id.
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # SQLAlchemy logs every statement at INFO; show them only when DB_ECHO asks for it.
    logging.getLogger("sqlalchemy.engine").setLevel(
        logging.INFO if settings.db_echo else logging.WARNING
    )
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


# -- database sink -----------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    # PostgreSQL refuses NUL characters in text and JSONB values.
    return text.replace("\x00", "\\x00") if "\x00" in text else text


def _json_safe(value: Any, depth: int = 0) -> Any:
    """Return ``value`` as plain JSON data, stringifying what JSON cannot hold."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _json_safe(value.value, depth + 1)
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        return {_clean_text(str(k)): _json_safe(v, depth + 1) for k, v in value.items()}
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item, depth + 1) for item in value]
    try:
        return _clean_text(str(value))
    except Exception:
        return object.__repr__(value)


def _exc_info(record: logging.LogRecord, exc_info: Any) -> ExcInfo | None:
    """Return the record's exception as a (type, value, traceback) triple, if it has one."""
    info = record.exc_info or exc_info
    if info is True:
        info = sys.exc_info()
    elif isinstance(info, BaseException):
        info = (type(info), info, info.__traceback__)
    if isinstance(info, tuple) and len(info) == 3 and isinstance(info[1], BaseException):
        return (type(info[1]), info[1], info[2])
    return None


def _row_from_record(record: logging.LogRecord) -> dict[str, Any]:
    if isinstance(record.msg, dict):
        # A structlog call: the event dict, already merged with the bound context.
        fields: dict[str, Any] = dict(record.msg)
        message = str(fields.get("event", ""))
    else:
        fields = {**structlog.contextvars.get_contextvars(), **_record_extras(record)}
        message = record.getMessage()
    exc_info = _exc_info(record, fields.get("exc_info"))
    exception = record.exc_text or (
        "".join(traceback.format_exception(*exc_info)) if exc_info else None
    )
    request_id = fields.get("request_id")
    context: dict[str, Any] = _json_safe(
        _redact({k: v for k, v in fields.items() if k not in _NOT_CONTEXT})
    )
    http = _HTTP_REQUEST.get()
    if http is not None:
        context.setdefault("method", http[0])
        context.setdefault("path", http[1])
    if exception:
        context["exception"] = _clean_text(exception)
    # After the call's own fields: one of the same name cannot stand in for these.
    described = describe(exc_info, message=message, logger=record.name)
    context.update(_json_safe(described))
    if record.stack_info:
        context["stack_info"] = _clean_text(record.stack_info)
    return {
        "id": uuid.uuid4(),
        "time": datetime.fromtimestamp(record.created, UTC),
        "level": record.levelname.lower()[:10],
        "logger": record.name[:100],
        "message": _clean_text(message),
        "request_id": None if request_id is None else str(request_id)[:64],
        "context": context or None,
    }


class SystemLogSink(logging.Handler):
    """Queue records at or above ``level`` for batched insertion into ``system_logs``.

    The queue is bounded: when it is full, records are dropped and counted in ``dropped`` rather
    than blocking the code that logs.
    """

    def __init__(
        self, level: int | str = logging.ERROR, *, max_queue: int = 10_000, batch_size: int = 200
    ) -> None:
        super().__init__(level)
        self.batch_size = batch_size
        self.dropped = 0
        self.written = 0
        self.failed = 0
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._failing = False

    @property
    def pending(self) -> int:
        """Return how many records wait to be written."""
        return self._queue.qsize()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record as a row; never block, never raise."""
        if _WRITING_SYSTEM_LOGS.get() or record.name == __name__:
            return
        try:
            row = _row_from_record(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            # Handler.handle() holds this handler's lock around emit(), so this is not racy.
            self.dropped += 1

    def _take(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    @overload
    def flush(self) -> None: ...

    @overload
    def flush(
        self, session_factory: async_sessionmaker[AsyncSession]
    ) -> Coroutine[Any, Any, int]: ...

    def flush(
        self, session_factory: async_sessionmaker[AsyncSession] | None = None
    ) -> Coroutine[Any, Any, int] | None:
        """Return a coroutine that stores every queued record and returns how many it stored.

        Called without a session factory, as ``logging.shutdown()`` does on every handler, there
        is nothing to do: the rows need a database and an event loop.
        """
        if session_factory is None:
            return None
        return self._store_queued(session_factory)

    async def _store_queued(self, session_factory: async_sessionmaker[AsyncSession]) -> int:
        # A failed batch is dropped (counted in ``failed``) and reported once on standard error
        # until a write succeeds again; the rest stays queued for the next round.
        token = _WRITING_SYSTEM_LOGS.set(True)
        stored = 0
        try:
            while batch := self._take():
                try:
                    async with session_factory() as session, session.begin():
                        await session.execute(sa.insert(SYSTEM_LOG_TABLE), batch)
                except Exception as exc:
                    self.failed += len(batch)
                    self._report_failure(exc)
                    break
                stored += len(batch)
                self.written += len(batch)
                self._failing = False
        finally:
            _WRITING_SYSTEM_LOGS.reset(token)
        return stored

    def _report_failure(self, exc: Exception) -> None:
        if self._failing:
            return
        self._failing = True
        # Not logged: the record would come straight back to this sink.
        sys.stderr.write(
            f"quantumtrade: cannot store error logs in the database ({exc!r}); "
            "dropping this batch and retrying later\n"
        )

    async def run_writer(
        self, session_factory: async_sessionmaker[AsyncSession], *, interval: float = 1.0
    ) -> None:
        """Store queued records every ``interval`` seconds until cancelled.

        A batch in flight when the task is cancelled is lost; on shutdown, cancel the task and
        then ``await sink.flush(session_factory)`` to store what is still queued.
        """
        while True:
            await self._store_queued(session_factory)
            await asyncio.sleep(interval)


def install_system_log_sink(settings: Settings) -> SystemLogSink:
    """Attach a fresh :class:`SystemLogSink` to the root logger, replacing any earlier one."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, SystemLogSink):
            root.removeHandler(handler)
    sink = SystemLogSink(_level(settings.db_log_level))
    root.addHandler(sink)
    if root.getEffectiveLevel() > sink.level:
        root.setLevel(sink.level)
    return sink
