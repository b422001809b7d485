"""Insider and options signals: the figures traders read, from hand-built trades and quotes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from quantumtrade.domain.insider import InsiderTrade
from quantumtrade.ml.sentiment.signals import (
    insider_summary,
    iv_rank_percentile,
    options_summary,
    parse_occ,
    skew_25d,
)

NOW = datetime(2026, 6, 30, 21, tzinfo=UTC)


def trade(
    who: str,
    code: str,
    days_ago: int,
    *,
    role: str = "director",
    shares: float = 1000,
    price: float = 50.0,
    planned: bool = False,
) -> InsiderTrade:
    filed = NOW - timedelta(days=days_ago)
    return InsiderTrade(
        filed_at=filed,
        traded_on=(filed - timedelta(days=1)).date(),
        insider=who,
        role=role,  # type: ignore[arg-type]
        title=None,
        code=code,  # type: ignore[arg-type]
        shares=shares,
        price=price,
        planned=planned,
    )


def test_planned_sales_are_reported_but_are_not_opinions() -> None:
    trades = [
        trade("A", "S", 5, planned=True, role="officer"),
        trade("B", "S", 6, planned=True, role="officer"),
        trade("C", "P", 7),
    ]
    summary = insider_summary(trades, NOW)
    assert summary.planned_sales == 2 and summary.discretionary_sales == 0
    assert summary.buyers == 1 and summary.sellers == 0 and summary.score == 1.0
    assert summary.net_value == pytest.approx(50_000.0)


def test_net_selling_scores_negative_and_roles_are_apart() -> None:
    trades = [
        trade("CEO", "S", 3, role="officer", shares=10_000),
        trade("CFO", "S", 4, role="officer", shares=5_000),
        trade("Dir", "P", 5, role="director", shares=1_000),
    ]
    summary = insider_summary(trades, NOW)
    assert summary.score == pytest.approx((1 - 2) / 3)
    assert summary.by_role["officer"].sells == 2 and summary.by_role["officer"].buys == 0
    assert summary.by_role["director"].net_shares == 1_000
    assert summary.net_shares == 1_000 - 15_000
    assert not summary.cluster_buy


def test_three_insiders_buying_within_ten_days_is_a_cluster() -> None:
    cluster = [trade(name, "P", d) for name, d in (("A", 20), ("B", 15), ("C", 12))]
    summary = insider_summary([*cluster, trade("D", "S", 2)], NOW)
    assert summary.cluster_buy and set(summary.cluster_buyers) == {"A", "B", "C"}
    assert summary.score == 1.0
    spread = [trade(name, "P", d) for name, d in (("A", 40), ("B", 25), ("C", 10))]
    assert not insider_summary(spread, NOW).cluster_buy
    same_person = [trade("A", "P", d) for d in (12, 10, 8)]
    assert not insider_summary(same_person, NOW).cluster_buy


def test_trades_outside_the_window_or_after_now_do_not_count() -> None:
    summary = insider_summary([trade("A", "P", 120), trade("B", "P", -1)], NOW)
    assert summary.trades == 0 and summary.score == 0.0


def test_occ_symbols_parse() -> None:
    assert parse_occ("AAPL260116C00200000") == ("AAPL", date(2026, 1, 16), "call", 200.0)
    assert parse_occ("SPY   261218P00450500") == ("SPY", date(2026, 12, 18), "put", 450.5)
    with pytest.raises(ValueError, match="OCC"):
        parse_occ("AAPL")


def test_iv_rank_and_percentile() -> None:
    now, rank, pct = iv_rank_percentile([0.2, 0.3, 0.4, 0.25, 0.35])
    assert now == 0.35 and rank == pytest.approx(0.75) and pct == pytest.approx(0.75)
    assert iv_rank_percentile([0.2]) == (0.2, None, None)
    assert iv_rank_percentile([0.3, 0.3, 0.3])[1] is None  # no range: no rank


@dataclass
class Quote:
    symbol: str
    expiry: date
    kind: str
    strike: float
    delta: float
    iv: float
    open_interest: int


@dataclass
class OptionTrade:
    symbol: str
    time: datetime
    price: float
    size: int
    side: str
    sweep: bool


TODAY = date(2026, 6, 30)
E30 = date(2026, 7, 31)
E7 = date(2026, 7, 3)


def chain() -> list[Quote]:
    return [
        Quote("X260731C00110000", E30, "call", 110, 0.26, 0.22, 500),
        Quote("X260731C00105000", E30, "call", 105, 0.40, 0.23, 800),
        Quote("X260731P00090000", E30, "put", 90, -0.24, 0.30, 400),
        Quote("X260731P00095000", E30, "put", 95, -0.40, 0.27, 700),
        Quote("X260703C00110000", E7, "call", 110, 0.25, 0.40, 100),
        Quote("X260703P00090000", E7, "put", 90, -0.25, 0.60, 100),
    ]


def test_skew_uses_the_expiry_nearest_thirty_days_and_the_25_delta_wings() -> None:
    skew, expiry = skew_25d(chain(), TODAY)
    assert expiry == E30 and skew == pytest.approx(0.30 - 0.22)


def test_options_summary_ratios_and_unusual_trades() -> None:
    at = datetime(2026, 6, 30, 15, tzinfo=UTC)
    trades = [
        OptionTrade("X260731C00110000", at, 2.0, 600, "buy", False),  # volume 600 > OI 500
        OptionTrade("X260731C00105000", at, 3.0, 50, "sell", False),
        OptionTrade("X260731P00090000", at, 1.5, 100, "buy", True),  # a bought sweep
        OptionTrade("X260731P00095000", at, 2.5, 30, "sell", True),  # a sold sweep: not unusual
    ]
    summary = options_summary(chain(), trades, [0.2, 0.25, 0.3], TODAY)
    assert summary.call_volume == 650 and summary.put_volume == 130
    assert summary.put_call_volume == pytest.approx(130 / 650)
    assert summary.put_call_open_interest == pytest.approx(1200 / 1400)
    assert [u.symbol for u in summary.unusual] == ["X260731C00110000", "X260731P00090000"]
    assert summary.unusual_call_premium == pytest.approx(2.0 * 600 * 100)
    assert summary.unusual_put_premium == pytest.approx(1.5 * 100 * 100)
    assert summary.score > 0  # call buying and a low put/call ratio lean bullish
    assert summary.iv_rank == pytest.approx(1.0)
    bearish = [OptionTrade("X260731P00090000", at, 1.5, 2000, "buy", True)]
    assert options_summary(chain(), bearish, [], TODAY).score < 0
