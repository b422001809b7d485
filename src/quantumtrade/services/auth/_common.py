"""Pieces shared by the auth use cases: e-mail normalisation, hashing off the event loop,
session and token issuing, and brute-force counters."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.core import security
from quantumtrade.core.settings import Settings
from quantumtrade.db.models import AuthSession, PasswordResetToken, RefreshToken, User
from quantumtrade.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None


def normalize_email(email: str) -> str:
    """Return the canonical form under which an e-mail address is stored and looked up."""
    return email.strip().lower()


def email_key(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


async def hash_password(password: str, settings: Settings) -> str:
    # bcrypt takes tens of milliseconds by design: keep it off the event loop.
    return await asyncio.to_thread(security.hash_password, password, rounds=settings.bcrypt_rounds)


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(security.verify_password, password, password_hash)


def check_password_strength(password: str, settings: Settings, *, hints: list[str]) -> None:
    """Refuse a weak, short or very common password with the reasons why."""
    problems = security.password_problems(
        password,
        min_length=settings.password_min_length,
        min_score=settings.password_min_score,
        user_inputs=[hint for hint in hints if hint],
    )
    if problems:
        raise InvalidInput(
            "The password is too weak: " + " ".join(problems),
            code="weak_password",
            details={"reasons": problems},
        )


def email_hints(email: str, full_name: str | None) -> list[str]:
    local = email.split("@", 1)[0]
    return [local, email, *(full_name or "").split()]


def issue_access_token(
    settings: Settings, *, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> str:
    assert settings.jwt_secret is not None  # load_settings always provides one
    return security.encode_access_token(
        user_id=user_id,
        session_id=session_id,
        secret=settings.jwt_secret,
        algorithm=settings.jwt_algorithm,
        now=now,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )


def add_refresh_token(
    db: AsyncSession, settings: Settings, *, session_id: uuid.UUID, now: datetime
) -> str:
    """Create the next refresh token of a session's family and return its plain value."""
    token = security.new_opaque_token()
    db.add(
        RefreshToken(
            session_id=session_id,
            token_hash=security.token_digest(token),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    return token


async def start_session(
    db: AsyncSession, settings: Settings, *, user: User, client: ClientInfo, now: datetime
) -> TokenPair:
    """Open a new session for ``user`` and issue its first access and refresh tokens."""
    session = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        ip_address=(client.ip or "")[:64] or None,
        user_agent=(client.user_agent or "")[:300] or None,
    )
    db.add(session)
    refresh = add_refresh_token(db, settings, session_id=session.id, now=now)
    return TokenPair(
        access_token=issue_access_token(settings, user_id=user.id, session_id=session.id, now=now),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
        session_id=session.id,
    )


async def revoke_sessions(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    reason: str,
    now: datetime,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke every live session of a user (but ``keep``); return how many were revoked."""
    statement = (
        sa.update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)
    )
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    result = await db.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def void_reset_tokens(db: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> None:
    """Make every outstanding password-reset token of a user unusable."""
    await db.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
