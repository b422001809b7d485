"""Request dependencies as ``Annotated`` aliases: the only way routes reach shared resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.api.middleware import client_ip
from quantumtrade.core.settings import Settings
from quantumtrade.domain.errors import Forbidden, Unauthenticated
from quantumtrade.services import auth
from quantumtrade.services.container import Container
from quantumtrade.services.trading.batch import OrderBatcher
from quantumtrade.services.trading.desk import TradingDesk


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_settings(container: ContainerDep) -> Settings:
    return container.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_db(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    async with container.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db)]

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/auth/login")


async def get_access_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Return the bearer token as sent (checked by the service that uses it).

    The cheap dependencies are ``async``: FastAPI runs a plain ``def`` in a worker thread.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated(
            "Authentication required: send 'Authorization: Bearer <access token>'.",
            code="missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials.credentials


AccessTokenDep = Annotated[str, Depends(get_access_token)]


async def get_principal(
    db: SessionDep, container: ContainerDep, access_token: AccessTokenDep
) -> auth.Principal:
    return await auth.authenticate(
        db, settings=container.settings, access_token=access_token, now=container.clock.now()
    )


CurrentPrincipal = Annotated[auth.Principal, Depends(get_principal)]


async def get_admin(principal: CurrentPrincipal) -> auth.Principal:
    """Return the caller if their account has the admin role; refuse anyone else with 403."""
    if principal.user.role != "admin":
        raise Forbidden("This needs an administrator account.", code="admin_required")
    return principal


CurrentAdmin = Annotated[auth.Principal, Depends(get_admin)]


def get_client(request: Request, settings: SettingsDep) -> auth.ClientInfo:
    return auth.ClientInfo(
        ip=client_ip(request.scope, trust_proxy=settings.trust_proxy),
        user_agent=request.headers.get("user-agent"),
    )


ClientDep = Annotated[auth.ClientInfo, Depends(get_client)]


def get_login_guard(container: ContainerDep) -> auth.LoginGuard:
    return auth.LoginGuard(container.cache, container.settings)


LoginGuardDep = Annotated[auth.LoginGuard, Depends(get_login_guard)]


def get_desk(request: Request) -> TradingDesk:
    desk: TradingDesk = request.app.state.trading
    return desk


DeskDep = Annotated[TradingDesk, Depends(get_desk)]


async def get_order_batcher(request: Request) -> OrderBatcher:
    batcher: OrderBatcher = request.app.state.order_batcher
    return batcher


OrderBatcherDep = Annotated[OrderBatcher, Depends(get_order_batcher)]

# Paging: an offset past every row answers an empty page; past this bound, a 422 (the database
# cannot take an offset above 2**63 - 1, and no list here comes near this many rows).
MAX_OFFSET = 1_000_000_000
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description=f"Rows to skip, 0 to {MAX_OFFSET}.")
]
