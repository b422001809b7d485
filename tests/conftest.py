"""Shared fixtures: real PostgreSQL and Redis servers, fresh databases, built settings.

Tests that need a server use the ``postgres_admin_url`` or ``redis_url`` fixtures (directly or
through others) and are marked ``postgres`` / ``redis`` automatically. Without the server they
skip, except under ``CI=true``, where a missing server fails the run.

``QT_TEST_BACKEND=scale`` runs the API tests on PostgreSQL + Redis instead of SQLite + memory.
A test whose app the backend decides (it uses ``app_database_url`` or ``app_redis_url``, or is
marked ``backend``) is marked ``backend``; under ``QT_TEST_BACKEND=scale`` only those run, since
every other test does the same thing on either backend and has already run in the embedded pass
(tests of the data layer, cache and bus use the real servers in both). ``QT_TEST_ALL=1`` runs
everything in scale mode too.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from quantumtrade.db import migrate
from quantumtrade.db.engine import create_engine
from support import (
    BACKEND,
    PG_ADMIN_URL,
    REDIS_URL,
    RUN_ID,
    RedisProcess,
    create_pg_database,
    drop_pg_database,
    reachable,
    require_server,
)

# No per-example deadline: on a busy machine a slow example is not a failure. Tests that set
# their own ``@settings`` keep this default unless they override ``deadline`` themselves.
hypothesis_settings.register_profile("quantumtrade", deadline=None)
hypothesis_settings.load_profile("quantumtrade")


# The fixtures through which the backend choice reaches a test's app.
BACKEND_FIXTURES = frozenset({"app_database_url", "app_redis_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "postgres_admin_url" in names:
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)
        if BACKEND_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.backend)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # On several workers (``-n``), the modules with a slow test go out first, so that the
        # longest ones do not start last and leave the other workers idle at the end.
        slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
        items.sort(key=lambda item: item.path not in slow)
    if BACKEND != "scale" or os.environ.get("QT_TEST_ALL") == "1":
        return
    kept = [item for item in items if item.get_closest_marker("backend") is not None]
    skipped = [item for item in items if item.get_closest_marker("backend") is None]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require_server("PostgreSQL", reachable(PG_ADMIN_URL, 5432))
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_server("Redis", reachable(REDIS_URL, 6379))
    return REDIS_URL


@pytest.fixture
async def fresh_pg_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"qt_test_{RUN_ID}_{secrets.token_hex(3)}"
    url = await create_pg_database(postgres_admin_url, name)
    yield url
    await drop_pg_database(postgres_admin_url, name)


@pytest.fixture
def fresh_sqlite_url(tmp_path: Path) -> str:
    """A new, empty SQLite database file for one test."""
    return f"sqlite+aiosqlite:///{(tmp_path / 'qt.db').as_posix()}"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test or run shares."""
    yield f"qt-test:{RUN_ID}:{secrets.token_hex(3)}:"


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    """Path of ``redis-server``, for tests that stop and restart a Redis of their own."""
    import shutil

    path = shutil.which("redis-server")
    require_server("redis-server binary", path is not None)
    assert path is not None
    return path


@pytest.fixture(scope="session")
async def app_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if BACKEND == "scale":
        admin_url = request.getfixturevalue("postgres_admin_url")
        name = f"qt_test_{RUN_ID}_app"
        url = await create_pg_database(admin_url, name)
    else:
        path = tmp_path_factory.mktemp("app-db") / "qt.db"
        url = f"sqlite+aiosqlite:///{path.as_posix()}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    yield url
    if BACKEND == "scale":
        await drop_pg_database(request.getfixturevalue("postgres_admin_url"), name)


@pytest.fixture(scope="session")
def app_redis_url(request: pytest.FixtureRequest) -> str | None:
    if BACKEND == "scale":
        return str(request.getfixturevalue("redis_url"))
    return None


@pytest.fixture
def private_redis(redis_server_binary: str) -> Iterator[RedisProcess]:
    """A redis-server of this test's own, which it may kill and restart."""
    server = RedisProcess(redis_server_binary)
    server.start()
    try:
        yield server
    finally:
        server.kill()
