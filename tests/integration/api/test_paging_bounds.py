"""Paging parameters are bounded: a huge offset is a 422, never a database overflow (500)."""

from __future__ import annotations

import httpx
import pytest

from support import assert_error, bearer, register

HUGE = "483820351437384900935680"  # above 2**63 - 1: SQLite raised OverflowError on it


@pytest.mark.parametrize(
    "path",
    [
        "/api/alerts",
        "/api/backtests",
        "/api/backtest/datasets",
        "/PORTFOLIO/trades",
        "/api/ai/decisions",
        "/api/ai/models",
        "/api/journal/entries",
    ],
)
async def test_list_offset_above_the_bound_is_a_422(api: httpx.AsyncClient, path: str) -> None:
    headers = bearer((await register(api))["access_token"])
    if path.startswith("/PORTFOLIO"):
        created = await api.post("/api/portfolios", json={"name": "Paging"}, headers=headers)
        path = path.replace("/PORTFOLIO", f"/api/portfolios/{created.json()['id']}")
    assert_error(await api.get(path, params={"offset": HUGE}, headers=headers), 422)
    assert_error(await api.get(path, params={"offset": "-1"}, headers=headers), 422)
    largest = await api.get(path, params={"offset": "1000000000"}, headers=headers)
    assert largest.status_code == 200, largest.text
