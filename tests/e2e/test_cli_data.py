"""``quantumtrade data import`` as a user runs it: a good file lands, a bad one leaves nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from quantumtrade.db.engine import create_engine
from quantumtrade.db.repositories import load_bars
from quantumtrade.domain.market import Timeframe
from support import run_cli


def stored(tmp_path: Path, symbol: str) -> int:
    async def count() -> int:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'quantumtrade.db'}")
        try:
            frame = await load_bars(
                engine,
                symbol,
                Timeframe.DAY_1,
                datetime(2000, 1, 1, tzinfo=UTC),
                datetime(2030, 1, 1, tzinfo=UTC),
            )
        finally:
            await engine.dispose()
        return len(frame)

    return asyncio.run(count())


def test_import_good_file_stores_every_row(env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        f"2024-02-{day:02d},{100 + day},{102 + day},{99 + day},{101 + day},1000"
        for day in range(1, 21)
    ]
    path = tmp_path / "acme.csv"
    path.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")

    result = run_cli(
        "data", "import", str(path), "--symbol", "acme", "--timeframe", "1Day", env=env
    )

    assert result.returncode == 0, result.stderr
    assert "ACME" in result.stdout and "20" in result.stdout
    assert stored(tmp_path, "ACME") == 20


def test_import_bad_file_exits_1_listing_lines_and_stores_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-02-01,100,102,99,101,1000\n"
        "2024-02-02,100,98,99,101,1000\n"
        "2024-02-03,100,102,99,101,1000\n"
        "yesterday-ish,100,102,99,101,1000\n"
    )
    # Migrate first so that "0 rows" is read from a real, empty table.
    assert run_cli("migrate", env=env).returncode == 0

    result = run_cli("data", "import", str(path), "--symbol", "BAD", env=env)

    assert result.returncode == 1
    assert "line 3" in result.stderr and "line 5" in result.stderr
    assert "nothing was imported" in result.stderr
    assert stored(tmp_path, "BAD") == 0
