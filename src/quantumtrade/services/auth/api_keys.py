"""API key pairs for the Alpaca-compatible API: create, list, revoke, and authenticate.

A key is bound to one of its user's portfolios; every request made with it acts on that
portfolio alone. The secret is returned once, at creation, and stored as its SHA-256 digest
(it is 240 random bits, so a slow hash adds nothing). Each request looks the key up in the
database: nothing positive is cached, so a revocation holds on every replica at once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.core import security
from quantumtrade.db.models import ApiKey, Portfolio, User
from quantumtrade.domain.errors import NotFound, Unauthenticated
from quantumtrade.services.trading.portfolios import get_portfolio

KEY_ID_PREFIX = "PK"  # as Alpaca's paper keys
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_KEY_ID_LENGTH = 20
_TOUCH_INTERVAL = timedelta(minutes=1)
# Digest of a secret nobody holds: compared against when the key id is unknown, so a wrong key
# and a wrong secret cost the same work and get the same answer.
_NO_SECRET = security.token_digest(secrets.token_urlsafe(30))
NOT_AUTHORIZED = "request is not authorized"


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    """Who is calling with a key: the user, the key's row id and the portfolio it trades."""

    user: User
    api_key_id: uuid.UUID
    portfolio_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key just created, with its secret in clear: shown this once, never again."""

    key: ApiKey
    secret: str


def _new_key_id() -> str:
    tail = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_ID_LENGTH - 2))
    return KEY_ID_PREFIX + tail


async def create_api_key(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID,
    name: str | None,
    now: datetime,
) -> NewApiKey:
    """Create a key pair for one of the user's portfolios (another's answers 404)."""
    portfolio = await get_portfolio(db, user_id=user_id, portfolio_id=portfolio_id)
    secret = secrets.token_urlsafe(30)
    key = ApiKey(
        id=uuid.uuid4(),
        user_id=user_id,
        portfolio_id=portfolio.id,
        name=name,
        key_id=_new_key_id(),
        secret_hash=security.token_digest(secret),
        created_at=now,
    )
    db.add(key)
    await db.commit()
    return NewApiKey(key=key, secret=secret)


async def list_api_keys(db: AsyncSession, *, user_id: uuid.UUID) -> list[ApiKey]:
    """Return the user's keys, newest first, revoked ones included."""
    rows = await db.scalars(
        sa.select(ApiKey)
        .where(ApiKey.user_id == user_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return list(rows)


async def revoke_api_key(
    db: AsyncSession, *, user_id: uuid.UUID, api_key_id: uuid.UUID, now: datetime
) -> ApiKey:
    """Revoke one of the user's keys; it is refused from the next request on."""
    key = await db.scalar(
        sa.select(ApiKey).where(ApiKey.id == api_key_id, ApiKey.user_id == user_id)
    )
    if key is None:
        raise NotFound("API key not found.", code="api_key_not_found")
    if key.revoked_at is None:
        key.revoked_at = now
        await db.commit()
    return key


def _refused() -> Unauthenticated:
    return Unauthenticated(NOT_AUTHORIZED, code="unauthorized")


async def authenticate_api_key(
    db: AsyncSession, *, key_id: str | None, secret: str | None, now: datetime
) -> KeyPrincipal:
    """Resolve a key pair to its user and portfolio; any failure answers the same 401."""
    if not key_id or not secret or len(key_id) > 64 or len(secret) > 256:
        raise _refused()
    row = (
        await db.execute(
            sa.select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .join(Portfolio, Portfolio.id == ApiKey.portfolio_id)
            .where(ApiKey.key_id == key_id)
        )
    ).first()
    key, user = row if row is not None else (None, None)
    matches = security.constant_time_equals(
        security.token_digest(secret), key.secret_hash if key is not None else _NO_SECRET
    )
    if key is None or user is None or not matches or key.revoked_at is not None:
        raise _refused()
    if not user.is_active:
        raise _refused()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_INTERVAL:
        key.last_used_at = now
        await db.commit()
    return KeyPrincipal(user=user, api_key_id=key.id, portfolio_id=key.portfolio_id)


async def api_key_active(db: AsyncSession, *, api_key_id: uuid.UUID) -> bool:
    """Return whether a key still exists unrevoked, for connections that outlive a request."""
    revoked = await db.execute(sa.select(ApiKey.revoked_at).where(ApiKey.id == api_key_id))
    row = revoked.first()
    return row is not None and row[0] is None
