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
    "LoginGuard",
    "Principal",
    "SessionView",
    "TokenPair",
    "authenticate",
    "change_password",
    "check_session",
    "confirm_password_reset",
    "list_sessions",
    "login",
    "logout",
    "normalize_email",
    "read_access_token",
    "refresh",
    "register",
    "request_password_reset",
    "revoke_session",
]
