"""Bodies of ``/api/auth/api-keys``: key pairs for the Alpaca-compatible API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from quantumtrade.api.schemas.common import StrictModel, Uuid


class ApiKeyCreate(StrictModel):
    """A new key pair for one of your portfolios."""

    portfolio_id: Uuid = Field(description="The portfolio every request with this key acts on.")
    name: str | None = Field(default=None, min_length=1, max_length=100, examples=["my bot"])


class ApiKeyOut(BaseModel):
    """A key pair without its secret."""

    id: Uuid
    key_id: str = Field(
        description="Send as the APCA-API-KEY-ID header.", examples=["PKQ1X3K8ZC7T0AB2MN4R"]
    )
    name: str | None = Field(examples=["my bot"])
    portfolio_id: Uuid
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A key pair just created: the secret is shown this once and stored only hashed."""

    secret_key: str = Field(
        description="Send as the APCA-API-SECRET-KEY header. It cannot be shown again.",
        examples=["hUq3k1o0c2Yb7t9F-9S1mZcVq0sQzJbQWm4Lk8Xp"],
    )
