"""The ``quantumtrade`` command: serve, migrate, create users."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from quantumtrade import __version__

if TYPE_CHECKING:
    from quantumtrade.core.settings import Settings

app = typer.Typer(
    name="quantumtrade",
    help="QuantumTrade: AI-assisted algorithmic trading backend.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

# The commands with modules of their own, in the order --help lists them. Each module imports
# what its command needs (the engine and pandas, the database, the regime model, ...), so a
# run of one command imports only its own module: ``quantumtrade backtest --data FILE`` starts
# without SQLAlchemy, Alembic or scikit-learn.
_COMMAND_MODULES = ("data", "backtest", "optimize", "regime")


def _add_command(name: str) -> None:
    if name == "data":
        from quantumtrade.cli_data import data_app

        app.add_typer(data_app, name="data")
    elif name == "backtest":
        from quantumtrade.cli_backtest import backtest

        app.command("backtest")(backtest)
    elif name == "optimize":
        from quantumtrade.cli_optimize import optimize

        app.command("optimize")(optimize)
    elif name == "regime":
        from quantumtrade.cli_regime import regime

        app.command("regime")(regime)


def _invoked(argv: list[str]) -> str | None:
    """Return the command named on the command line, if it is one of ``_COMMAND_MODULES``."""
    for arg in argv[1:]:
        if not arg.startswith("-"):
            return arg if arg in _COMMAND_MODULES else None
    return None


_only = _invoked(sys.argv) if Path(sys.argv[0]).name in ("quantumtrade", "__main__.py") else None
for _name in (_only,) if _only is not None else _COMMAND_MODULES:
    _add_command(_name)


def _settings(**overrides: object) -> Settings:
    from quantumtrade.core.settings import UnsafeConfigurationError, load_settings

    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except UnsafeConfigurationError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    except ValueError as exc:  # pydantic's ValidationError names each bad setting
        console.print(f"[bold red]invalid configuration:[/]\n{exc}")
        raise typer.Exit(code=2) from exc


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (env HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (env PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (env WORKERS).", min=1)
    ] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Start the API server.

    With no configuration it runs embedded: SQLite under DATA_DIR (migrated on start-up),
    in-process cache and bus. Set DATABASE_URL or DB_HOST, and REDIS_URL or REDIS_HOST, for
    scale mode (run `quantumtrade migrate` first there).
    """
    import uvicorn

    from quantumtrade.infra.logging import configure_logging

    settings = _settings(host=host, port=port, workers=workers)
    configure_logging(settings, access_log=False)
    console.print(
        f"QuantumTrade {__version__} ({settings.environment.value}) on "
        f"http://{settings.host}:{settings.port}  docs: http://{settings.host}:{settings.port}/docs"
    )
    uvicorn.run(
        "quantumtrade.api.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=None if reload else settings.workers,
        reload=reload,
        access_log=False,
        log_config=None,
        proxy_headers=settings.trust_proxy,
        server_header=False,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (to the latest revision by default)."""
    from quantumtrade.db.migrate import upgrade_url

    settings = _settings()
    upgrade_url(settings.sqlalchemy_url, revision)
    console.print(f"database at revision {revision}")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Argument(help="E-mail address of the new account.")],
    password: Annotated[
        str | None,
        typer.Option(help="Password (prompted for when omitted; avoid on shared shells)."),
    ] = None,
    full_name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    admin: Annotated[bool, typer.Option(help="Give the account the admin role.")] = False,
) -> None:
    """Create an account (the password must pass the same strength rules as the API)."""
    from quantumtrade.services.cli_users import create_user as create

    settings = _settings()
    if password is None:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            console.print("[bold red]error:[/] passwords differ")
            raise typer.Exit(code=1)
    try:
        user_id = asyncio.run(
            create(settings, email=email, password=password, full_name=full_name, admin=admin)
        )
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        console.print(f"[bold red]error:[/] {message}")
        raise typer.Exit(code=1) from exc
    print(user_id)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
