"""Bodies of the /api/auth endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from quantumtrade.api.schemas.common import StrictModel
from quantumtrade.core.security import MAX_PASSWORD_LENGTH

Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
Email = Annotated[EmailStr, Field(max_length=320)]
FullName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[^\W\d_]+(?:[ .'-][^\W\d_]+)*\.?$"),
]
OpaqueToken = Annotated[str, Field(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")]


class RegisterRequest(StrictModel):
    email: Email
    password: Password
    full_name: FullName | None = Field(
        default=None, description="Letters, spaces, and . ' - between names"
    )


class LoginRequest(StrictModel):
    email: Email
    password: Password


class RefreshRequest(StrictModel):
    refresh_token: OpaqueToken


class PasswordResetRequest(StrictModel):
    email: Email


class PasswordResetConfirm(StrictModel):
    token: OpaqueToken
    new_password: Password


class PasswordChange(StrictModel):
    current_password: Password
    new_password: Password


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    role: str
    created_at: datetime
    last_login_at: datetime | None


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_expires_in: int
    session_id: uuid.UUID


class AuthOut(TokenOut):
    user: UserOut


class SessionOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    current: bool


class PasswordChanged(BaseModel):
    message: str
    other_sessions_revoked: int
