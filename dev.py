#!/usr/bin/env python3
"""Set up and run QuantumTrade with nothing but Python 3.11.

    python3 dev.py serve [OPTIONS]   install (once) and start the server on the embedded default
    python3 dev.py test  [PYTEST ARGS]   install (once, with the dev tools) and run the test suite
    python3 dev.py lint              ruff (lint + format check) and mypy

Each command creates ./.venv on first use and reinstalls only when pyproject.toml changes, so
running it again is quick and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".quantumtrade-install.json"


def _fail(message: str) -> None:
    sys.stderr.write(f"dev.py: {message}\n")
    raise SystemExit(2)


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, check=False)
    if result.returncode:
        _fail(f"command failed with exit code {result.returncode}")


# PyTorch's CPU build, installed before the project so that its ``torch`` requirement is
# already met: the default wheel on PyPI bundles CUDA and weighs several gigabytes.
TORCH = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def ensure_installed(*, dev: bool) -> None:
    """Create the virtual environment and install the project into it, if not done already."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any install
        _fail(f"Python 3.11 or newer is required, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        _run(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        stamp = {}
    if stamp.get("pyproject") == digest and (stamp.get("dev") or not dev):
        return
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # Few retries: where the index cannot be reached but a local wheel directory (pip's
    # find-links) holds the build, pip's default five retries per package only add minutes.
    _run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--retries",
        "2",
        TORCH,
        "--index-url",
        TORCH_INDEX,
    )
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]" if dev else ".")
    STAMP.write_text(json.dumps({"pyproject": digest, "dev": dev}))


def _exec(program: Path, *args: str) -> None:
    os.chdir(ROOT)
    os.execv(program, [str(program), *args])  # noqa: S606 - runs our own venv's tools


def main(argv: list[str]) -> None:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "serve":
        ensure_installed(dev=False)
        _exec(BIN / "quantumtrade", "serve", *args)
    elif command == "test":
        ensure_installed(dev=True)
        _exec(PYTHON, "-m", "pytest", *args)
    elif command == "lint":
        ensure_installed(dev=True)
        _run(BIN / "ruff", "check", ".")
        _run(BIN / "ruff", "format", "--check", ".")
        _run(BIN / "mypy")
    else:
        print(__doc__)
        raise SystemExit(0 if command in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
