"""Account administration for the command line."""

from __future__ import annotations

import uuid

from email_validator import EmailNotValidError, validate_email

from quantumtrade.core.settings import Settings
from quantumtrade.db import migrate
from quantumtrade.db.engine import create_engine, create_session_factory
from quantumtrade.domain.clock import SystemClock
from quantumtrade.domain.errors import InvalidInput
from quantumtrade.services import auth


async def create_user(
    settings: Settings, *, email: str, password: str, full_name: str | None, admin: bool
) -> uuid.UUID:
    """Create an account directly in the database and return its id."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"Not a valid e-mail address: {exc}", code="invalid_email") from exc
    engine = create_engine(settings.sqlalchemy_url)
    try:
        if settings.should_auto_migrate:
            await migrate.upgrade(engine)
        async with create_session_factory(engine)() as db:
            user, _ = await auth.register(
                db,
                settings=settings,
                email=email,
                password=password,
                full_name=full_name,
                client=auth.ClientInfo(ip=None, user_agent="quantumtrade-cli"),
                now=SystemClock().now(),
                role="admin" if admin else "user",
            )
            return user.id
    finally:
        await engine.dispose()
