"""The server's garbage-collector tuning, checked in a fresh process (it is process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, gc, json, sys
from quantumtrade.api.app import GC_THRESHOLDS, create_app
from quantumtrade.core.settings import load_settings

async def main(tuning):
    settings = load_settings(
        _env_file=None, environment="test", data_dir=sys.argv[1], gc_tuning=tuning,
        database_url=f"sqlite+aiosqlite:///{sys.argv[1]}/gc-{tuning}.db",
        market_feed_enabled=False, paper_matching_enabled=False, risk_monitor_enabled=False,
    )
    before = gc.get_threshold()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return {"before": before, "during": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                "expected": GC_THRESHOLDS}

print(json.dumps({str(t): asyncio.run(main(t)) for t in (False, True)}))
"""


def test_the_server_freezes_startup_objects_and_raises_the_thresholds(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    off, on = seen["False"], seen["True"]
    assert off["during"] == off["before"] and off["frozen"] == 0
    assert on["during"] == on["expected"] != on["before"]
    assert on["frozen"] > 10_000  # the modules and the app built at startup
