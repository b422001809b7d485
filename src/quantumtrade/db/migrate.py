"""Run the packaged Alembic migrations on an async engine or a database URL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Alembic publishes the running environment through module globals (alembic.context, alembic.op),
# so two commands in one process, on any thread or event loop, must take turns. Across processes
# the advisory lock taken in env.py does the same job.
_ALEMBIC_TURN = threading.Lock()
_POLL_SECONDS = 0.05


def alembic_config(url: str) -> Config:
    """Build an Alembic config for the packaged migrations; no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # The config is an INI parser underneath: a literal % (as in an encoded password) must double.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` in one transaction."""
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Downgrade the database behind ``engine`` to ``revision`` in one transaction."""
    await _run(engine, command.downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the revision the database is at, or None if it was never migrated."""

    def read(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


def upgrade_url(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; runs its own event loop (for the CLI)."""
    with _ALEMBIC_TURN:
        command.upgrade(alembic_config(url), revision)


@asynccontextmanager
async def _alembic_turn() -> AsyncIterator[None]:
    # Polling instead of blocking keeps the event loop free and leaves nothing holding the lock
    # if the waiting task is cancelled. An asyncio.Event cannot stand in: the other holder may be
    # a thread running its own loop (upgrade_url).
    while not _ALEMBIC_TURN.acquire(blocking=False):  # noqa: ASYNC110
        await asyncio.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        _ALEMBIC_TURN.release()


async def _run(engine: AsyncEngine, step: Callable[[Config, str], None], revision: str) -> None:
    # The URL is informational only: env.py uses the connection handed over in attributes.
    config = alembic_config(engine.url.render_as_string(hide_password=True))

    def run(sync_conn: Connection) -> None:
        config.attributes["connection"] = sync_conn
        step(config, revision)

    async with _alembic_turn(), engine.begin() as conn:
        await conn.run_sync(run)
