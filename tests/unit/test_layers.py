"""The import rule of ARCHITECTURE.md: imports point inward only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "quantumtrade"

# layer -> the quantumtrade layers it may import (itself always allowed)
ALLOWED = {
    "domain": set(),
    "core": set(),
    "infra": {"core"},
    "db": {"core", "domain"},
    "marketdata": {"core", "domain"},
    "backtest": {"domain"},
    "ml": {"domain"},
    "services": {"core", "domain", "db", "infra", "marketdata", "backtest", "ml"},
    "api": {"core", "domain", "db", "infra", "services", "marketdata", "backtest", "ml"},
}
FORBIDDEN_THIRD_PARTY = {
    "domain": {"sqlalchemy", "fastapi", "starlette", "redis", "httpx", "structlog"},
    "backtest": {"sqlalchemy", "fastapi", "starlette", "redis"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) > 1 and parts[0] in ALLOWED and "migrations" not in parts:
            found.append((parts[0], path))
    return found


@pytest.mark.parametrize(
    ("layer", "path"), modules(), ids=lambda v: str(v).split("quantumtrade/")[-1]
)
def test_module_imports_only_inner_layers(layer: str, path: Path) -> None:
    for name in imports_of(path):
        root, _, rest = name.partition(".")
        if root == "quantumtrade" and rest:
            target = rest.split(".")[0]
            if target in ALLOWED:
                assert target == layer or target in ALLOWED[layer], f"{layer} imports {name}"
        else:
            assert root not in FORBIDDEN_THIRD_PARTY.get(layer, set()), f"{layer} imports {name}"


def test_routes_do_not_touch_the_database_directly() -> None:
    for path in (PACKAGE / "api" / "routers").glob("*.py"):
        assert not any(n.startswith("sqlalchemy") for n in imports_of(path)), path.name


def test_domain_imports_without_database_or_web_server() -> None:
    code = (
        "import sys, quantumtrade.domain, quantumtrade.domain.clock, quantumtrade.domain.errors;"
        "heavy = {'sqlalchemy', 'fastapi', 'redis', 'starlette'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
