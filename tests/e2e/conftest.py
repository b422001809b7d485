"""Run the server as a user would: a separate process started with the README command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 120


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Start ``python3 dev.py serve`` on a free port with its own data directory."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "DATABASE_", "REDIS_", "JWT_", "QT_"))
    }
    env.update(
        {"PORT": str(port), "DATA_DIR": str(tmp_path / "data"), "ENVIRONMENT": "development"}
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "dev.py", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    running = ServerProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{running.log()}")
            try:
                if httpx.get(f"{running.base_url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not become healthy:\n{running.log()}")
            time.sleep(0.3)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment for the CLI: embedded mode in a fresh DATA_DIR, no outside settings."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "DATABASE_", "REDIS_", "JWT_", "QT_", "ENVIRONMENT"))
    }
    base.update(
        {
            "DATA_DIR": str(tmp_path),
            "ENVIRONMENT": "development",
            "BCRYPT_ROUNDS": "4",
            "COLUMNS": "200",
        }
    )
    return base
