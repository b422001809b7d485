"""Register, log in, refresh, log out, and resolve an access token to its user and session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.core import security
from quantumtrade.core.security import AccessClaims
from quantumtrade.core.settings import Settings
from quantumtrade.db.models import AuthSession, RefreshToken, User
from quantumtrade.domain.errors import Conflict, Forbidden, TooManyRequests, Unauthenticated
from quantumtrade.infra.cache import Cache
from quantumtrade.services.auth._common import (
    ClientInfo,
    TokenPair,
    add_refresh_token,
    check_password_strength,
    email_hints,
    email_key,
    hash_password,
    issue_access_token,
    normalize_email,
    start_session,
    verify_password,
)

INVALID_CREDENTIALS = "Invalid email or password."
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user and the session their access token names."""

    user: User
    session_id: uuid.UUID


async def register(
    db: AsyncSession,
    *,
    settings: Settings,
    email: str,
    password: str,
    full_name: str | None,
    client: ClientInfo,
    now: datetime,
    role: str = "user",
) -> tuple[User, TokenPair]:
    """Create an account and log it in."""
    email = normalize_email(email)
    check_password_strength(password, settings, hints=email_hints(email, full_name))
    if await db.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = User(
        id=uuid.uuid4(),
        email=email,
        password_hash=await hash_password(password, settings),
        full_name=full_name,
        role=role,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
        last_login_at=now,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        await db.rollback()
        raise Conflict("An account with this email already exists.", code="email_taken") from exc
    tokens = await start_session(db, settings, user=user, client=client, now=now)
    await db.commit()
    return user, tokens


class LoginGuard:
    """Brute-force protection: failures counted per account and per client IP.

    Accounts are keyed by a hash of the e-mail, known or not, so a lockout reveals nothing about
    which addresses are registered.
    """

    def __init__(self, cache: Cache, settings: Settings) -> None:
        self._cache = cache
        self._window = settings.login_failure_window_seconds
        self._limits = {
            "account": settings.login_max_failures_per_account,
            "ip": settings.login_max_failures_per_ip,
        }

    def _keys(self, email: str, ip: str | None) -> dict[str, str]:
        return {"account": f"login-fail:acct:{email_key(email)}", "ip": f"login-fail:ip:{ip}"}

    async def check(self, email: str, ip: str | None) -> None:
        """Refuse the attempt while the account or the IP is locked out."""
        for scope, key in self._keys(email, ip).items():
            count, reset = await self._cache.peek_window(key)
            if count >= self._limits[scope]:
                retry = max(1, int(reset + 0.999))
                raise TooManyRequests(
                    "Too many failed login attempts. Try again later.",
                    code="too_many_login_attempts",
                    details={"scope": scope, "retry_after_seconds": retry},
                    headers={"Retry-After": str(retry)},
                )

    async def record_failure(self, email: str, ip: str | None) -> None:
        for key in self._keys(email, ip).values():
            await self._cache.incr_window(key, self._window)


async def login(
    db: AsyncSession,
    *,
    settings: Settings,
    guard: LoginGuard,
    email: str,
    password: str,
    client: ClientInfo,
    now: datetime,
) -> tuple[User, TokenPair]:
    """Check credentials and open a session. Unknown users and wrong passwords look alike."""
    email = normalize_email(email)
    await guard.check(email, client.ip)
    user = await db.scalar(sa.select(User).where(User.email == email))
    # Verify against a dummy hash of the same cost when there is no user, so the answer takes
    # as long as for a wrong password.
    stored_hash = (
        user.password_hash if user else security.dummy_password_hash(settings.bcrypt_rounds)
    )
    password_ok = await verify_password(password, stored_hash)
    if user is None or not password_ok:
        await guard.record_failure(email, client.ip)
        raise Unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("This account is disabled.", code="account_disabled")
    user.last_login_at = now
    tokens = await start_session(db, settings, user=user, client=client, now=now)
    await db.commit()
    return user, tokens


async def refresh(
    db: AsyncSession, *, settings: Settings, refresh_token: str, now: datetime
) -> TokenPair:
    """Rotate a refresh token. Presenting an already-used one revokes its whole family."""
    digest = security.token_digest(refresh_token)
    row = (
        await db.execute(
            sa.select(RefreshToken, AuthSession)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == digest)
        )
    ).first()
    if row is None:
        raise Unauthenticated("The refresh token is not valid.", code="invalid_refresh_token")
    token, session = row
    if session.revoked_at is not None or session.expires_at <= now or token.expires_at <= now:
        raise Unauthenticated("The session has ended. Log in again.", code="session_expired")
    # Claim the token atomically: of two concurrent uses, exactly one succeeds.
    claimed = await db.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        await db.execute(
            sa.update(AuthSession)
            .where(AuthSession.id == session.id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason="refresh_token_reuse")
        )
        await db.commit()
        raise Unauthenticated(
            "This refresh token was already used; the session has been revoked. Log in again.",
            code="refresh_token_reused",
        )
    user_active = await db.scalar(sa.select(User.is_active).where(User.id == session.user_id))
    if not user_active:
        await db.rollback()
        raise Unauthenticated("The session has ended. Log in again.", code="session_expired")
    session.last_used_at = now
    new_refresh = add_refresh_token(db, settings, session_id=session.id, now=now)
    await db.commit()
    return TokenPair(
        access_token=issue_access_token(
            settings, user_id=session.user_id, session_id=session.id, now=now
        ),
        refresh_token=new_refresh,
        expires_in=settings.access_token_ttl_seconds,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
        session_id=session.id,
    )


def read_access_token(settings: Settings, access_token: str, now: datetime) -> AccessClaims:
    """Verify a bearer token's signature, type and expiry (401 otherwise); no database."""
    assert settings.jwt_secret is not None
    try:
        return security.decode_access_token(
            access_token, secret=settings.jwt_secret, algorithm=settings.jwt_algorithm, now=now
        )
    except security.InvalidToken as exc:
        code = "token_expired" if str(exc) == "token expired" else "invalid_token"
        raise Unauthenticated("The access token is invalid or expired.", code=code) from exc


def check_session(
    claims: AccessClaims,
    *,
    user_id: uuid.UUID | None,
    user_active: bool,
    revoked_at: datetime | None,
    expires_at: datetime | None,
    now: datetime,
) -> None:
    """Refuse (401) a token whose session is gone, revoked or expired, or whose user is not.

    ``user_id`` is None when the session does not exist.
    """
    if user_id is None:
        raise Unauthenticated("The access token is invalid or expired.", code="invalid_token")
    if user_id != claims.user_id or not user_active:
        raise Unauthenticated("The access token is invalid or expired.", code="invalid_token")
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        raise Unauthenticated("The session has ended. Log in again.", code="session_revoked")


async def authenticate(
    db: AsyncSession, *, settings: Settings, access_token: str, now: datetime
) -> Principal:
    """Resolve a bearer token to its user, refusing it once its session is revoked."""
    claims = read_access_token(settings, access_token, now)
    row = (
        await db.execute(
            sa.select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id == claims.session_id)
        )
    ).first()
    session, user = row if row is not None else (None, None)
    check_session(
        claims,
        user_id=user.id if user else None,
        user_active=bool(user and user.is_active),
        revoked_at=session.revoked_at if session else None,
        expires_at=session.expires_at if session else None,
        now=now,
    )
    assert session is not None and user is not None
    if now - session.last_used_at > SESSION_TOUCH_INTERVAL:
        session.last_used_at = now
        await db.commit()
    return Principal(user=user, session_id=session.id)


async def logout(db: AsyncSession, *, principal: Principal, now: datetime) -> None:
    """End the caller's session: its access and refresh tokens stop working at once."""
    await db.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == principal.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason="logout")
    )
    await db.commit()
