"""Password reset, password change, and the user's list of sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.core import security
from quantumtrade.core.settings import Settings
from quantumtrade.db.models import AuthSession, PasswordResetToken, User
from quantumtrade.domain.errors import InvalidInput, NotFound
from quantumtrade.infra.cache import Cache
from quantumtrade.services.auth._common import (
    check_password_strength,
    email_hints,
    email_key,
    hash_password,
    normalize_email,
    revoke_sessions,
    verify_password,
    void_reset_tokens,
)
from quantumtrade.services.auth.login import Principal
from quantumtrade.services.notifier import OutboxNotifier

RESET_REQUESTS_PER_HOUR = 5


async def request_password_reset(
    db: AsyncSession,
    *,
    settings: Settings,
    cache: Cache,
    notifier: OutboxNotifier,
    email: str,
    now: datetime,
) -> None:
    """Send a single-use reset token to the address if it has an account; say nothing either way."""
    email = normalize_email(email)
    count, _ = await cache.incr_window(f"reset-request:{email_key(email)}", 3600)
    if count > RESET_REQUESTS_PER_HOUR:
        return  # quietly: the answer must not differ from a normal request
    user = await db.scalar(sa.select(User).where(User.email == email, User.is_active))
    if user is None:
        return
    token = security.new_opaque_token()
    expires_at = now + timedelta(seconds=settings.password_reset_ttl_seconds)
    db.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=security.token_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    await notifier.send(
        db,
        user_id=user.id,
        recipient=user.email,
        kind="password_reset",
        payload={"token": token, "expires_at": expires_at.isoformat()},
    )
    await db.commit()


async def confirm_password_reset(
    db: AsyncSession, *, settings: Settings, token: str, new_password: str, now: datetime
) -> None:
    """Set a new password with a reset token and end every session of the account."""
    invalid = InvalidInput(
        "The reset token is invalid, expired or already used.", code="invalid_reset_token"
    )
    row = (
        await db.execute(
            sa.select(PasswordResetToken, User)
            .join(User, User.id == PasswordResetToken.user_id)
            .where(PasswordResetToken.token_hash == security.token_digest(token))
        )
    ).first()
    if row is None:
        raise invalid
    reset, user = row
    if (
        reset.used_at is not None
        or reset.expires_at <= now
        or reset.created_at < user.password_changed_at
        or not user.is_active
    ):
        raise invalid
    check_password_strength(new_password, settings, hints=email_hints(user.email, user.full_name))
    claimed = await db.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        await db.rollback()
        raise invalid
    await _set_password(db, settings, user=user, new_password=new_password, now=now)
    await revoke_sessions(db, user_id=user.id, reason="password_reset", now=now)
    await db.commit()


async def change_password(
    db: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    current_password: str,
    new_password: str,
    now: datetime,
) -> int:
    """Change the caller's password; end their other sessions and return how many."""
    user = principal.user
    if not await verify_password(current_password, user.password_hash):
        raise InvalidInput("The current password is wrong.", code="invalid_current_password")
    if new_password == current_password:
        raise InvalidInput(
            "The new password must differ from the current one.", code="password_unchanged"
        )
    check_password_strength(new_password, settings, hints=email_hints(user.email, user.full_name))
    await _set_password(db, settings, user=user, new_password=new_password, now=now)
    revoked = await revoke_sessions(
        db, user_id=user.id, reason="password_changed", now=now, keep=principal.session_id
    )
    await db.commit()
    return revoked


async def _set_password(
    db: AsyncSession, settings: Settings, *, user: User, new_password: str, now: datetime
) -> None:
    user.password_hash = await hash_password(new_password, settings)
    user.password_changed_at = now
    user.updated_at = now
    await void_reset_tokens(db, user_id=user.id, now=now)


@dataclass(frozen=True, slots=True)
class SessionView:
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    current: bool


async def list_sessions(
    db: AsyncSession, *, principal: Principal, now: datetime
) -> list[SessionView]:
    """Return the caller's live sessions, most recently used first."""
    rows = await db.scalars(
        sa.select(AuthSession)
        .where(
            AuthSession.user_id == principal.user.id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.last_used_at.desc())
    )
    return [
        SessionView(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            ip_address=row.ip_address,
            user_agent=row.user_agent,
            current=row.id == principal.session_id,
        )
        for row in rows
    ]


async def revoke_session(
    db: AsyncSession, *, principal: Principal, session_id: uuid.UUID, now: datetime
) -> None:
    """Revoke one of the caller's sessions; another user's session is not found."""
    result = await db.execute(
        sa.update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.user_id == principal.user.id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoke_reason="revoked_by_user")
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("No such session.", code="session_not_found")
    await db.commit()
