"""``/api/auth/api-keys``: key pairs for the Alpaca-compatible API (``/v2``, ``/stream``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from quantumtrade.api.deps import ContainerDep, CurrentPrincipal, SessionDep
from quantumtrade.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Uuid
from quantumtrade.db.models import ApiKey
from quantumtrade.services import auth

router = APIRouter(prefix="/api/auth/api-keys", tags=["auth"], responses=ERROR_RESPONSES)


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(key, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key pair for one of your portfolios (the secret is shown once)",
)
async def create_api_key(
    body: ApiKeyCreate, db: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> ApiKeyCreated:
    created = await auth.create_api_key(
        db,
        user_id=principal.user.id,
        portfolio_id=body.portfolio_id,
        name=body.name,
        now=container.clock.now(),
    )
    return ApiKeyCreated(**_out(created.key).model_dump(), secret_key=created.secret)


@router.get("", response_model=list[ApiKeyOut], summary="Your API keys, newest first")
async def list_api_keys(db: SessionDep, principal: CurrentPrincipal) -> list[ApiKeyOut]:
    return [_out(key) for key in await auth.list_api_keys(db, user_id=principal.user.id)]


@router.delete("/{api_key_id}", status_code=204, summary="Revoke an API key; it is refused at once")
async def revoke_api_key(
    api_key_id: Uuid, db: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> Response:
    await auth.revoke_api_key(
        db, user_id=principal.user.id, api_key_id=api_key_id, now=container.clock.now()
    )
    return Response(status_code=204)
