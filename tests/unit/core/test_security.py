"""Password hashing and strength, opaque tokens, and JWT access tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from quantumtrade.core import security

SECRET = "s" * 48


def test_hash_uses_the_configured_cost_and_verifies() -> None:
    hashed = security.hash_password("Correct-horse-42", rounds=10)
    assert security.bcrypt_cost(hashed) == 10
    assert security.verify_password("Correct-horse-42", hashed)
    assert not security.verify_password("correct-horse-42", hashed)


def test_characters_past_bcrypts_72_byte_limit_still_count() -> None:
    base = "x" * 80
    hashed = security.hash_password(base + "A", rounds=4)
    assert not security.verify_password(base + "B", hashed)


def test_verify_of_a_garbage_hash_is_false_not_an_error() -> None:
    assert not security.verify_password("anything", "not-a-bcrypt-hash")


def test_dummy_hash_has_the_requested_cost() -> None:
    assert security.bcrypt_cost(security.dummy_password_hash(10)) == 10


@pytest.mark.parametrize("weak", ["password", "password123", "letmein2024", "qwerty12345"])
def test_common_passwords_are_weak(weak: str) -> None:
    assert security.password_problems(weak, min_length=8, min_score=3, user_inputs=[])


def test_password_built_from_user_details_is_weak() -> None:
    problems = security.password_problems(
        "lovelace2024", min_length=8, min_score=3, user_inputs=["ada", "lovelace"]
    )
    assert problems


def test_long_random_passphrase_is_accepted() -> None:
    assert (
        security.password_problems(
            "violet-Harbor-93-quasar", min_length=10, min_score=3, user_inputs=[]
        )
        == []
    )


def test_length_bounds_are_explained() -> None:
    assert (
        "at least 10"
        in security.password_problems("Ab1!", min_length=10, min_score=0, user_inputs=[])[0]
    )
    too_long = "Ab1!" * 40
    assert (
        "at most"
        in security.password_problems(too_long, min_length=10, min_score=0, user_inputs=[])[0]
    )


@pytest.mark.parametrize("length", [72, 73, 100, security.MAX_PASSWORD_LENGTH])
def test_every_allowed_length_is_judged(length: int) -> None:
    """Long passwords are judged, not a crash (zxcvbn itself refuses more than 72 characters)."""
    password = ("violet-Harbor-93-quasar-" * 6)[:length]
    assert security.password_problems(password, min_length=10, min_score=3, user_inputs=[]) == []


def test_opaque_tokens_are_unique_and_stored_as_digests() -> None:
    tokens = {security.new_opaque_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert security.token_digest(token) != token and len(security.token_digest(token)) == 64


def _token(now: datetime, ttl: timedelta = timedelta(hours=1), secret: str = SECRET) -> str:
    return security.encode_access_token(
        user_id=uuid.UUID(int=1),
        session_id=uuid.UUID(int=2),
        secret=secret,
        algorithm="HS256",
        now=now,
        ttl=ttl,
    )


def test_access_token_names_user_and_session() -> None:
    claims = security.decode_access_token(
        _token(datetime.now(UTC)), secret=SECRET, algorithm="HS256"
    )
    assert claims.user_id == uuid.UUID(int=1)
    assert claims.session_id == uuid.UUID(int=2)


def test_expired_forged_and_wrong_type_tokens_are_refused() -> None:
    past = datetime.now(UTC) - timedelta(days=2)
    with pytest.raises(security.InvalidToken, match="expired"):
        security.decode_access_token(_token(past), secret=SECRET, algorithm="HS256")
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(
            _token(datetime.now(UTC), secret="o" * 48), secret=SECRET, algorithm="HS256"
        )
    refresh_like = jwt.encode(
        {
            "sub": str(uuid.UUID(int=1)),
            "sid": str(uuid.UUID(int=2)),
            "typ": "refresh",
            "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(refresh_like, secret=SECRET, algorithm="HS256")
    none_alg = jwt.encode({"sub": "x"}, key="", algorithm="none")
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(none_alg, secret=SECRET, algorithm="HS256")


def test_access_token_expiry_follows_the_given_clock() -> None:
    issued = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    token = _token(issued, ttl=timedelta(minutes=15))
    claims = security.decode_access_token(
        token, secret=SECRET, algorithm="HS256", now=issued + timedelta(minutes=14)
    )
    assert claims.session_id == uuid.UUID(int=2)
    with pytest.raises(security.InvalidToken, match="expired"):
        security.decode_access_token(
            token, secret=SECRET, algorithm="HS256", now=issued + timedelta(minutes=15)
        )
