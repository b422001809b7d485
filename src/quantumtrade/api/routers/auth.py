"""``/api/auth``: accounts, sessions and passwords. Routes validate, call a service, answer."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response, status

from quantumtrade.api.deps import (
    ClientDep,
    ContainerDep,
    CurrentPrincipal,
    LoginGuardDep,
    SessionDep,
)
from quantumtrade.api.schemas.auth import (
    AuthOut,
    LoginRequest,
    PasswordChange,
    PasswordChanged,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    SessionOut,
    TokenOut,
    UserOut,
)
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Message, Uuid, refused
from quantumtrade.db.models import User
from quantumtrade.services import auth

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


def _user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _auth_out(user: User, tokens: auth.TokenPair) -> AuthOut:
    return AuthOut(**asdict(tokens), user=_user_out(user))


@router.post("/register", status_code=status.HTTP_201_CREATED, summary="Register a new user")
async def register(
    body: RegisterRequest, db: SessionDep, container: ContainerDep, client: ClientDep
) -> AuthOut:
    user, tokens = await auth.register(
        db,
        settings=container.settings,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        client=client,
        now=container.clock.now(),
    )
    return _auth_out(user, tokens)


@router.post(
    "/login",
    summary="Log in and open a session",
    responses=refused("The account is disabled"),
)
async def login(
    body: LoginRequest,
    db: SessionDep,
    container: ContainerDep,
    client: ClientDep,
    guard: LoginGuardDep,
) -> AuthOut:
    user, tokens = await auth.login(
        db,
        settings=container.settings,
        guard=guard,
        email=body.email,
        password=body.password,
        client=client,
        now=container.clock.now(),
    )
    return _auth_out(user, tokens)


@router.post("/refresh", summary="Rotate the refresh token and get a new access token")
async def refresh(body: RefreshRequest, db: SessionDep, container: ContainerDep) -> TokenOut:
    tokens = await auth.refresh(
        db, settings=container.settings, refresh_token=body.refresh_token, now=container.clock.now()
    )
    return TokenOut(**asdict(tokens))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def logout(principal: CurrentPrincipal, db: SessionDep, container: ContainerDep) -> Response:
    await auth.logout(db, principal=principal, now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", summary="The current user")
async def me(principal: CurrentPrincipal) -> UserOut:
    return _user_out(principal.user)


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a password-reset token to the account's address, if it exists",
)
async def request_password_reset(
    body: PasswordResetRequest, db: SessionDep, container: ContainerDep
) -> Message:
    await auth.request_password_reset(
        db,
        settings=container.settings,
        cache=container.cache,
        notifier=container.notifier,
        email=body.email,
        now=container.clock.now(),
    )
    return Message(message="If an account exists for this address, a reset token has been sent.")


@router.post(
    "/password-reset/confirm", summary="Set a new password with a reset token; ends all sessions"
)
async def confirm_password_reset(
    body: PasswordResetConfirm, db: SessionDep, container: ContainerDep
) -> Message:
    await auth.confirm_password_reset(
        db,
        settings=container.settings,
        token=body.token,
        new_password=body.new_password,
        now=container.clock.now(),
    )
    return Message(message="Password changed. Log in with the new password.")


@router.post("/password", summary="Change the password; ends every other session")
async def change_password(
    body: PasswordChange, principal: CurrentPrincipal, db: SessionDep, container: ContainerDep
) -> PasswordChanged:
    revoked = await auth.change_password(
        db,
        settings=container.settings,
        principal=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        now=container.clock.now(),
    )
    return PasswordChanged(message="Password changed.", other_sessions_revoked=revoked)


@router.get("/sessions", summary="The current user's active sessions")
async def list_sessions(
    principal: CurrentPrincipal, db: SessionDep, container: ContainerDep
) -> list[SessionOut]:
    views = await auth.list_sessions(db, principal=principal, now=container.clock.now())
    return [SessionOut(**asdict(view)) for view in views]


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of the current user's sessions",
)
async def revoke_session(
    session_id: Uuid, principal: CurrentPrincipal, db: SessionDep, container: ContainerDep
) -> Response:
    await auth.revoke_session(
        db, principal=principal, session_id=session_id, now=container.clock.now()
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
