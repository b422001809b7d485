"""Configuration: the spec's variable names, URL building, and production safety checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantumtrade.core.settings import (
    Environment,
    Settings,
    UnsafeConfigurationError,
    load_settings,
    normalize_database_url,
)

SEED_VARIABLES = [
    "NODE_ENV",
    "ENVIRONMENT",
    "APP_ENV",
    "PORT",
    "DB_HOST",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "JWT_SECRET",
    "REDIS_HOST",
    "REDIS_URL",
    "DATABASE_URL",
    "LOG_LEVEL",
    "DATA_DIR",
    "CORS_ORIGINS",
    "CORS_ALLOW_CREDENTIALS",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SEED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


def test_defaults_are_the_embedded_development_server() -> None:
    settings = load_settings()
    assert settings.port == 3001
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.sqlalchemy_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_redis_url is None
    assert settings.should_auto_migrate
    assert settings.access_token_ttl_seconds == 7 * 24 * 3600
    assert settings.refresh_token_ttl_seconds == 30 * 24 * 3600
    assert settings.bcrypt_rounds >= 10
    assert settings.rate_limit_max == 100 and settings.rate_limit_window_seconds == 900
    assert settings.price_cache_ttl == 5 and settings.portfolio_cache_ttl == 30


def test_seed_variable_names_configure_postgres_and_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_HOST", "db.internal")
    monkeypatch.setenv("DB_NAME", "qt")
    monkeypatch.setenv("DB_USER", "trader")
    monkeypatch.setenv("DB_PASSWORD", "p@ss/word")
    monkeypatch.setenv("REDIS_HOST", "cache.internal")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("NODE_ENV", "test")
    settings = load_settings()
    assert (
        settings.sqlalchemy_url == "postgresql+asyncpg://trader:p%40ss%2Fword@db.internal:5432/qt"
    )
    assert settings.database_password() == "p@ss/word"
    assert settings.effective_redis_url == "redis://cache.internal:6379/0"
    assert settings.port == 8080
    assert settings.environment is Environment.TEST
    assert not settings.should_auto_migrate


def test_database_url_wins_and_is_mapped_to_the_async_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_HOST", "ignored")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:secretpw@h:5433/d")
    assert load_settings().sqlalchemy_url == "postgresql+asyncpg://u:secretpw@h:5433/d"
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def test_cors_origins_accept_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]


def test_settings_are_not_built_at_import_time() -> None:
    import quantumtrade.api.app as app_module

    assert not any(isinstance(value, Settings) for value in vars(app_module).values())


def test_development_secret_is_created_once_and_kept(tmp_path: Path) -> None:
    first = load_settings().jwt_secret
    second = load_settings().jwt_secret
    assert first and first == second
    secret_file = tmp_path / "data" / "jwt_secret"
    assert secret_file.read_text() == first
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert len(first.encode()) >= 32


def _production(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    values = {
        "JWT_SECRET": "k" * 40,
        "DB_HOST": "db",
        "DB_PASSWORD": "a-strong-db-password-91",
    }
    values.update(env)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_production_with_safe_settings_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    assert load_settings().is_production


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JWT_SECRET": ""}, "JWT_SECRET"),
        ({"JWT_SECRET": "short-secret"}, "JWT_SECRET"),
        ({"DB_PASSWORD": "postgres"}, "DB_PASSWORD"),
        ({"DB_PASSWORD": ""}, "DB_PASSWORD"),
        ({"DATABASE_URL": "postgresql://postgres:password@db/qt"}, "DATABASE_URL"),
        ({"CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"}, "CORS_ORIGINS"),
    ],
)
def test_production_refuses_unsafe_settings_naming_them(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    _production(monkeypatch, **env)
    with pytest.raises(UnsafeConfigurationError, match=named):
        load_settings()


def test_production_lists_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, JWT_SECRET="", DB_PASSWORD="changeme", CORS_ORIGINS="*")
    with pytest.raises(UnsafeConfigurationError) as raised:
        load_settings()
    message = str(raised.value)
    assert "JWT_SECRET" in message and "DB_PASSWORD" in message and "CORS_ORIGINS" in message


def test_wildcard_cors_without_credentials_is_allowed_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _production(monkeypatch, CORS_ORIGINS="*", CORS_ALLOW_CREDENTIALS="false")
    assert load_settings().cors_origins == ["*"]


def test_bad_values_are_refused_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ValueError, match="port"):
        load_settings()
    monkeypatch.setenv("PORT", "3001")
    with pytest.raises(ValueError, match="rate_limit_rules"):
        load_settings(rate_limit_rules={"GET /x": "ten per minute"})
