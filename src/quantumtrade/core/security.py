"""Password hashing, password strength, opaque tokens and JWTs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import bcrypt
import jwt
from zxcvbn import zxcvbn

MAX_PASSWORD_LENGTH = 128
# zxcvbn is quadratic, and since 4.5 refuses (ValueError) anything longer than 72 characters;
# its verdict on a password that long does not change past that length.
_ZXCVBN_INPUT_LIMIT = 72


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes; a SHA-256 digest first keeps every character significant.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, *, rounds: int) -> str:
    """Hash a password with bcrypt at the given cost."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Check a password against a bcrypt hash in constant time."""
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


@lru_cache(maxsize=8)
def dummy_password_hash(rounds: int) -> str:
    """Return a hash to verify against when the user does not exist, so timing matches."""
    return hash_password(secrets.token_urlsafe(16), rounds=rounds)


def bcrypt_cost(password_hash: str) -> int:
    """Return the cost factor recorded in a bcrypt hash."""
    return int(password_hash.split("$")[2])


def password_problems(
    password: str, *, min_length: int, min_score: int, user_inputs: list[str]
) -> list[str]:
    """Return the reasons a password is too weak (empty when it is acceptable)."""
    if len(password) < min_length:
        return [f"Password must be at least {min_length} characters long."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Password must be at most {MAX_PASSWORD_LENGTH} characters long."]
    verdict = zxcvbn(password[:_ZXCVBN_INPUT_LIMIT], user_inputs=user_inputs)
    if verdict["score"] >= min_score:
        return []
    feedback = verdict.get("feedback") or {}
    reasons = [feedback.get("warning") or "This password is too easy to guess."]
    reasons.extend(feedback.get("suggestions") or [])
    return [reason for reason in reasons if reason]


def new_opaque_token() -> str:
    """Return a URL-safe random token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which an opaque token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


def encode_access_token(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    secret: str,
    algorithm: str,
    now: datetime,
    ttl: timedelta,
) -> str:
    """Sign an access token naming its user and session."""
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret, algorithm=algorithm)


def decode_access_token(
    token: str, *, secret: str, algorithm: str, now: datetime | None = None
) -> AccessClaims:
    """Verify an access token's signature, expiry and type and return its claims.

    Expiry is checked against ``now`` (the injected clock; wall time when omitted), the same
    clock that stamped the token's ``exp``.
    """
    user_id, session_id, expires = _verified_claims(token, secret, algorithm)
    moment = now.timestamp() if now is not None else time.time()
    if expires <= moment:
        raise InvalidToken("token expired")
    return AccessClaims(
        user_id=user_id,
        session_id=session_id,
        expires_at=datetime.fromtimestamp(expires).astimezone(),
    )


@lru_cache(maxsize=8192)
def _verified_claims(token: str, secret: str, algorithm: str) -> tuple[uuid.UUID, uuid.UUID, int]:
    """Check a token's signature and type once; a client sends the same token many times.

    Only valid tokens are remembered (a refusal raises, and ``lru_cache`` keeps no exceptions);
    the expiry, which depends on the time, is checked by the caller on every use.
    """
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            options={"require": ["sub", "sid", "exp", "typ"], "verify_exp": False},
        )
        if payload.get("typ") != "access":
            raise InvalidToken("not an access token")
        return uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]), int(payload["exp"])
    except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken("invalid token") from exc
