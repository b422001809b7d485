"""The ``quantumtrade`` command line: help, migrate, create-user, refusing unsafe config."""

from __future__ import annotations

from pathlib import Path

from support import STRONG_PASSWORD, run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_commands(env: dict[str, str]) -> None:
    result = run_cli("--help", env=env)
    assert result.returncode == 0
    for command in ("serve", "migrate", "create-user"):
        assert command in result.stdout
    serve_help = run_cli("serve", "--help", env=env)
    assert "--port" in serve_help.stdout and "embedded" in serve_help.stdout


def test_migrate_then_create_user(env: dict[str, str], tmp_path: Path) -> None:
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "quantumtrade.db").exists()
    created = run_cli(
        "create-user", "Ops@Example.com", "--password", STRONG_PASSWORD, "--admin", env=env
    )
    assert created.returncode == 0, created.stderr
    duplicate = run_cli("create-user", "ops@example.com", "--password", STRONG_PASSWORD, env=env)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr


def test_create_user_refuses_a_weak_password_or_bad_email(env: dict[str, str]) -> None:
    weak = run_cli("create-user", "a@example.com", "--password", "password1", env=env)
    assert weak.returncode == 1 and "too weak" in weak.stderr
    bad = run_cli("create-user", "not-an-email", "--password", STRONG_PASSWORD, env=env)
    assert bad.returncode == 1 and "e-mail" in bad.stderr


def test_production_without_a_secret_refuses_to_start(env: dict[str, str]) -> None:
    env.update({"ENVIRONMENT": "production", "DB_HOST": "127.0.0.1", "DB_PASSWORD": "postgres"})
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr and "DB_PASSWORD" in result.stderr
