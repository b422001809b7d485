"""Helpers shared by the test suite (importable as ``support``)."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from quantumtrade.core.settings import Settings, load_settings

CI = os.environ.get("CI", "").lower() == "true"
BACKEND = os.environ.get("QT_TEST_BACKEND", "embedded")
PG_ADMIN_URL = os.environ.get(
    "QT_TEST_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("QT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = secrets.token_hex(4)

STRONG_PASSWORD = "violet-Harbor-93-quasar"
# The fixed clock of API tests that do not choose their own: a Wednesday, 11:00 in New York.
DEFAULT_NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_server(name: str, available: bool) -> None:
    """Skip without the server; fail under CI=true, where every server must be present."""
    if available:
        return
    message = f"{name} is not reachable"
    if CI:
        pytest.fail(f"{message}; CI requires it (start it, see DEVELOPERS.md)", pytrace=False)
    pytest.skip(message)


async def create_pg_database(admin_url: str, name: str) -> str:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def new_email() -> str:
    return f"trader-{secrets.token_hex(5)}@example.com"


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = STRONG_PASSWORD
) -> dict[str, Any]:
    """Register a fresh user and return the response body (tokens and user) plus the password."""
    response = await client.post(
        "/api/auth/register", json={"email": email or new_email(), "password": password}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    body["password"] = password
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Check the uniform error body and return its ``error`` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert "details" in error
    if code is not None:
        assert error["code"] == code, error
    return error


def build_settings(
    database_url: str, redis_url: str | None, data_dir: Path, /, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "environment": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_prefix": f"qt-test:{RUN_ID}:{secrets.token_hex(4)}:",
        "data_dir": data_dir,
        "bcrypt_rounds": 4,
        "rate_limit_max": 100_000,
        "auto_migrate": False,
        "gc_tuning": False,  # process-wide: tests start many apps in one process
        "regime_watch_enabled": False,  # fits a model per symbol: tests call check() instead
        "sentiment_watch_enabled": False,  # reads the whole information world: tests call it
        "ai_watch_enabled": False,  # trains every symbol's models: tests train what they use
        "reports_enabled": False,  # builds after each close: tests call check() instead
    }
    values.update(overrides)
    return load_settings(**values)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m quantumtrade ARGS`` in the test's data directory."""
    return subprocess.run(
        [sys.executable, "-m", "quantumtrade", *args],
        cwd=env["DATA_DIR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisProcess:
    """A private redis-server that a test may kill and start again on the same port."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Launch the server (keeping nothing on disk) and wait until it accepts connections."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 30.0,
    interval: float = 0.05,
    message: str = "condition not reached",
) -> None:
    """Poll ``condition`` every ``interval`` seconds until it holds; fail after ``timeout``.

    The timeout is generous on purpose: it only bounds a test that would otherwise hang, so a
    slow machine makes a passing test slower, never a failing one.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{message} within {timeout:.0f}s")
        await asyncio.sleep(interval)
