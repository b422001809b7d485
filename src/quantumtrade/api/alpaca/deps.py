"""Authentication by API key pair, for every Alpaca-compatible route (trading and, later, data).

Both headers are read through FastAPI's API key scheme, so the OpenAPI documents them; a
missing header, an unknown or revoked key and a wrong secret all answer the same 401.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader

from quantumtrade.api.deps import ContainerDep, SessionDep
from quantumtrade.services import auth

KEY_HEADER = "APCA-API-KEY-ID"
SECRET_HEADER = "APCA-API-SECRET-KEY"  # noqa: S105 (a header name, not a secret)

_key = APIKeyHeader(
    name=KEY_HEADER, auto_error=False, scheme_name="AlpacaKeyId", description="Your API key id."
)
_secret = APIKeyHeader(
    name=SECRET_HEADER,
    auto_error=False,
    scheme_name="AlpacaSecretKey",
    description="The secret shown when the key was created.",
)


async def get_key_principal(
    db: SessionDep,
    container: ContainerDep,
    key_id: Annotated[str | None, Depends(_key)],
    secret: Annotated[str | None, Depends(_secret)],
) -> auth.KeyPrincipal:
    return await auth.authenticate_api_key(
        db, key_id=key_id, secret=secret, now=container.clock.now()
    )


KeyPrincipalDep = Annotated[auth.KeyPrincipal, Depends(get_key_principal)]
