"""Authentication: accounts, sessions with rotating refresh tokens, password reset."""

from quantumtrade.services.auth._common import ClientInfo, TokenPair, normalize_email
from quantumtrade.services.auth.account import (
    SessionView,
    change_password,
    confirm_password_reset,
    list_sessions,
    request_password_reset,
    revoke_session,
)
from quantumtrade.services.auth.api_keys import (
    KeyPrincipal,
    NewApiKey,
    api_key_active,
    authenticate_api_key,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from quantumtrade.services.auth.login import (
    LoginGuard,
    Principal,
    authenticate,
    check_session,
    login,
    logout,
    read_access_token,
    refresh,
    register,
)

__all__ = [
    "ClientInfo",
    "KeyPrincipal",
    "LoginGuard",
    "NewApiKey",
    "Principal",
    "SessionView",
    "TokenPair",
    "api_key_active",
    "authenticate",
    "authenticate_api_key",
    "change_password",
    "check_session",
    "confirm_password_reset",
    "create_api_key",
    "list_api_keys",
    "list_sessions",
    "login",
    "logout",
    "normalize_email",
    "read_access_token",
    "refresh",
    "register",
    "request_password_reset",
    "revoke_api_key",
    "revoke_session",
]
