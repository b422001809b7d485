"""The daily report's pure parts: the day's figures, average costs, SVG and rendering."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.reports import (
    Holdings,
    average_costs,
    bar_chart,
    content_hash,
    day_figures,
    equity_path,
    holdings_at,
    line_chart,
    to_html,
    to_markdown,
)
from quantumtrade.domain.trading.performance import LedgerEvent

T0 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
D = Decimal


def fill(minutes: int, symbol: str, qty: str, price: str, fees: str = "0") -> LedgerEvent:
    signed = D(qty)
    return LedgerEvent(
        at=T0 + timedelta(minutes=minutes),
        cash_delta=-signed * D(price) - D(fees),
        symbol=symbol,
        qty_delta=signed,
    )


def test_day_figures_pl_splits_into_holding_and_each_trade_exactly() -> None:
    start = Holdings(D("1000"), {"AAA": D("10")})
    events = [
        fill(0, "AAA", "-4", "101.5", fees="0.37"),
        fill(5, "BBB", "3", "20.10"),
        LedgerEvent(at=T0 + timedelta(minutes=9), cash_delta=D("250")),
    ]
    figures = day_figures(start, events, {"AAA": D("100")}, {"AAA": D("103.25"), "BBB": D("19.99")})
    assert figures.equity_start == D("2000")
    assert figures.equity_end == D("1000") + D("406") - D("0.37") - D("60.30") + D("250") + D(
        "6"
    ) * D("103.25") + D("3") * D("19.99")
    assert figures.net_flow == D("250")
    assert figures.pl == figures.equity_end - figures.equity_start - figures.net_flow
    assert figures.holding_pl == D("10") * D("3.25")
    assert figures.pl == figures.holding_pl + sum(figures.trade_pl, D(0))
    assert figures.end.qty == {"AAA": D("6"), "BBB": D("3")}


def test_day_figures_refuse_a_held_symbol_without_a_price() -> None:
    with pytest.raises(InvalidInput) as caught:
        day_figures(Holdings(D(0), {"AAA": D(1)}), [], {}, {"AAA": D(1)})
    assert caught.value.code == "unpriced_position"


def test_holdings_at_stops_at_the_moment_and_drops_flat_symbols() -> None:
    events = [fill(0, "AAA", "5", "10"), fill(10, "AAA", "-5", "11"), fill(20, "BBB", "1", "3")]
    assert holdings_at(events, D(100), T0 + timedelta(minutes=10)) == Holdings(D(105), {})
    assert holdings_at(events, D(100), T0 + timedelta(minutes=30)).qty == {"BBB": D(1)}


def test_average_costs_average_in_keep_on_exits_and_restart_on_a_flip() -> None:
    fills = [
        ("AAA", D(10), D(100)),
        ("AAA", D(10), D(110)),
        ("AAA", D(-5), D(120)),
        ("BBB", D(2), D(50)),
        ("BBB", D(-5), D(40)),
        ("CCC", D(1), D(5)),
        ("CCC", D(-1), D(6)),
    ]
    assert average_costs(fills) == {"AAA": D(105), "BBB": D(40)}


def test_equity_path_counts_each_fill_from_its_time() -> None:
    start = Holdings(D(100), {})
    events = [fill(5, "AAA", "2", "10")]
    times = [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
    path = equity_path(start, events, times, {"AAA": [10.0, 10.0, 12.0]})
    assert path == [100.0, 100.0, 104.0]


def test_charts_are_deterministic_svg_without_external_references() -> None:
    line = line_chart("Return <%>", ["09:35", "10:00"], [("p", [0.1, None]), ("SPY", [0.0, 0.2])])
    bars = bar_chart("P&L", ["buy A", "sell B"], [3.5, -1.25])
    assert line == line_chart(
        "Return <%>", ["09:35", "10:00"], [("p", [0.1, None]), ("SPY", [0.0, 0.2])]
    )
    for svg in (line, bars):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert not re.search(r"(?:src|href)=", svg)
    assert "Return &lt;%&gt;" in line  # text is escaped
    assert bars.count("<rect") == 3  # the background and one bar each


REPORT = {
    "title": "Daily report: A|B <x>, 2026-11-18",
    "session": {"close": "2026-11-18T21:00:00+00:00"},
    "generated_at": "2026-11-18T21:05:00+00:00",
    "sections": [
        {
            "id": "trades",
            "title": "Trades",
            "text": ["1 fill."],
            "tables": [{"title": "Fills", "columns": ["symbol", "pl"], "rows": [["A|B", None]]}],
            "charts": [
                {"kind": "bar", "title": "P&L", "unit": "$", "labels": ["A"], "values": [1.0]}
            ],
            "data": {},
        }
    ],
}


def test_markdown_and_html_render_any_section_from_text_tables_and_charts() -> None:
    markdown = to_markdown(REPORT)
    assert "## Trades" in markdown and "| A\\|B | - |" in markdown
    html = to_html(REPORT)
    assert "<svg" in html and "&lt;x&gt;" in html and "<script" not in html


def test_content_hash_leaves_out_when_and_as_what_a_report_was_stored() -> None:
    moved = REPORT | {"generated_at": "later", "id": "another"}
    assert content_hash(moved) == content_hash(REPORT)
    assert content_hash(REPORT | {"title": "other"}) != content_hash(REPORT)
