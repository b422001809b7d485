"""The sections of a portfolio's daily report: one function each, in :data:`SECTIONS` order.

A section is ``{"id", "title", "text", "tables", "charts", "data"}``: sentences, tables of
text and chart specs (which the Markdown and HTML renderers draw without knowing the
section), and ``data``, the same figures for programs, money as decimal strings. Adding a
section is one function (here or in a module of its own) named in ``SECTIONS`` of the
package.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from quantumtrade.domain.reports import equity_path
from quantumtrade.domain.risk.limits import WARNING_LEVEL, AccountRisk, Usage, limit_usage
from quantumtrade.services.reports._data import PortfolioDay
from quantumtrade.services.reports._days import NEW_YORK
from quantumtrade.services.risk.limits import limits_of
from quantumtrade.services.trading.views import text

Section = dict[str, Any]
CENT = Decimal("0.01")
STOP_TYPES = ("stop", "stop_limit", "trailing_stop")


def cents(value: Decimal | None) -> str | None:
    """Return money as a decimal string to the cent."""
    return None if value is None else text(value.quantize(CENT))


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return float(part / whole) if whole > 0 else None


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f} %"


def section(
    id_: str,
    title: str,
    *,
    text_: list[str] | None = None,
    tables: list[dict[str, Any]] | None = None,
    charts: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> Section:
    return {
        "id": id_,
        "title": title,
        "text": text_ or [],
        "tables": tables or [],
        "charts": charts or [],
        "data": data or {},
    }


def performance(day: PortfolioDay) -> Section:
    """The day's P&L and equity change against the benchmark, with the intraday curve."""
    f = day.figures
    ret = _ratio(f.pl, f.base)
    bench = None
    if day.benchmark_start and day.benchmark_end:
        bench = float(day.benchmark_end / day.benchmark_start - 1)
    excess = None if ret is None or bench is None else ret - bench
    sentences = [
        f"Equity went from {cents(f.equity_start)} to {cents(f.equity_end)}: "
        f"P&L {cents(f.pl)} ({pct(ret)}), {day.benchmark} {pct(bench)}.",
        f"Positions held at the previous close made {cents(f.holding_pl)}; "
        f"the day's trades made {cents(sum(f.trade_pl, Decimal(0)))} to the close.",
    ]
    if f.net_flow:
        sentences.append(f"Deposits of {cents(f.net_flow)} are left out of the P&L.")
    if day.reset_at is not None:
        sentences.append(f"The portfolio was reset at {day.reset_at.isoformat()}.")
    charts = []
    curve = _curve(day)
    if curve:
        charts.append(curve)
    return section(
        "performance",
        "P&L and equity against " + day.benchmark,
        text_=sentences,
        charts=charts,
        data={
            "equity_start": cents(f.equity_start),
            "equity_end": cents(f.equity_end),
            "net_flow": cents(f.net_flow),
            "pl": cents(f.pl),
            "holding_pl": cents(f.holding_pl),
            "trading_pl": cents(sum(f.trade_pl, Decimal(0))),
            "return": ret,
            "benchmark": day.benchmark,
            "benchmark_start": text(day.benchmark_start),
            "benchmark_end": text(day.benchmark_end),
            "benchmark_return": bench,
            "excess_return": excess,
            "reset_at": None if day.reset_at is None else day.reset_at.isoformat(),
        },
    )


def _curve(day: PortfolioDay) -> dict[str, Any] | None:
    """Return the intraday chart: the portfolio's return and the benchmark's, in percent."""
    times = day.intraday.get("times") or []
    if not times or day.figures.base <= 0 or not day.benchmark_start:
        return None
    equity = equity_path(day.intraday["start"], day.day_events, times, day.intraday["prices"])
    flows = [
        float(
            sum(
                (e.cash_delta for e in day.day_events if e.symbol is None and e.at <= t), Decimal(0)
            )
        )
        for t in times
    ]
    start, base = float(day.figures.equity_start), float(day.figures.base)
    bench0 = float(day.benchmark_start)
    return {
        "kind": "line",
        "title": f"Intraday return: portfolio vs {day.benchmark}",
        "unit": "%",
        "x": [t.astimezone(NEW_YORK).strftime("%H:%M") for t in times],
        "series": [
            {
                "name": "portfolio",
                "values": [
                    round((e - start - fl) / base * 100, 6)
                    for e, fl in zip(equity, flows, strict=True)
                ],
            },
            {
                "name": day.benchmark,
                "values": [round((p / bench0 - 1) * 100, 6) for p in day.intraday["benchmark"]],
            },
        ],
    }


def trades(day: PortfolioDay) -> Section:
    """Every fill of the day with its P&L to the close; the best and the worst."""
    rows = []
    for entry, pl in zip(day.fills, day.figures.trade_pl, strict=True):
        rows.append(
            {
                "id": str(entry.trade_id or entry.id),
                "time": entry.at.isoformat(),
                "symbol": entry.symbol,
                "side": entry.side,
                "qty": text(entry.qty),
                "price": text(entry.price),
                "fees": cents(entry.fees),
                "realized_pl": cents(entry.realized_pl),
                "pl_to_close": cents(pl),
                "_pl": pl,
            }
        )
    ranked = sorted(rows, key=lambda r: (r["_pl"], r["time"], r["id"]))
    best = ranked[-1] if ranked else None
    worst = ranked[0] if ranked else None
    for row in rows:
        del row["_pl"]
    realized = sum((e.realized_pl for e in day.fills), Decimal(0))
    sentences = [f"{len(rows)} fill(s); realized P&L {cents(realized)}."]
    if best is not None and worst is not None:
        sentences.append(
            f"Best: {best['side']} {best['qty']} {best['symbol']} at {best['price']} "
            f"({best['pl_to_close']} to the close)."
        )
        sentences.append(
            f"Worst: {worst['side']} {worst['qty']} {worst['symbol']} at {worst['price']} "
            f"({worst['pl_to_close']} to the close)."
        )
    columns = ["time", "symbol", "side", "qty", "price", "fees", "realized_pl", "pl_to_close"]
    table = {
        "title": "Fills",
        "columns": columns,
        "rows": [[r[c] for c in columns] for r in rows],
    }
    charts = []
    if rows:
        charts.append(
            {
                "kind": "bar",
                "title": "P&L to the close per trade",
                "unit": "$",
                "labels": [f"{r['side']} {r['symbol']}" for r in rows],
                "values": [float(pl) for pl in day.figures.trade_pl],
            }
        )
    return section(
        "trades",
        "Trades",
        text_=sentences,
        tables=[table],
        charts=charts,
        data={"count": len(rows), "items": rows, "best": best, "worst": worst},
    )


def usage_of(day: PortfolioDay) -> list[Usage]:
    """Return how much of each configured limit the day used, as of the close."""
    f = day.figures
    limits = limits_of(day.portfolio)
    exposures = {s: float(abs(q * day.end_prices[s])) for s, q in f.end.qty.items()}
    peak = day.peak_equity
    state = AccountRisk(
        equity=float(f.equity_end),
        exposures=exposures,
        sectors={s: day.sectors.get(s) for s in exposures},
        day_pl=float(f.pl),
        last_equity=float(f.base),
        drawdown=float(f.equity_end / peak - 1) if peak > 0 else 0.0,
    )
    found = limit_usage(limits, state)
    if limits.max_orders_per_minute:
        per_minute = Counter(o.created_at.replace(second=0, microsecond=0) for o in day.orders)
        busiest = max(per_minute.values(), default=0)
        found.append(
            Usage(
                "max_orders_per_minute",
                float(limits.max_orders_per_minute),
                float(busiest),
                busiest / limits.max_orders_per_minute,
            )
        )
    if limits.max_order_value:
        values = [(_order_value(o), o.symbol) for o in day.orders]
        top, symbol = max(((v, s) for v, s in values if v is not None), default=(0.0, None))
        found.append(
            Usage(
                "max_order_value", limits.max_order_value, top, top / limits.max_order_value, symbol
            )
        )
    return sorted(found, key=lambda u: (-u.used, u.rule))


def _order_value(order: Any) -> float | None:
    if order.notional is not None:
        return float(order.notional)
    price = order.filled_avg_price or order.limit_price or order.stop_price
    if order.qty is None or price is None:
        return None
    return float(order.qty * price)


def risk(day: PortfolioDay) -> Section:
    """How much of each limit in the portfolio's risk limits the day used (as of the close)."""
    usage = usage_of(day)
    items = [
        {
            "rule": u.rule,
            "limit": u.limit,
            "value": round(u.value, 6),
            "used": round(u.used, 6),
            "subject": u.subject,
        }
        for u in usage
    ]
    near = [u for u in usage if u.used >= WARNING_LEVEL]
    sentences = [f"{len(items)} limit(s) on; orders placed today: {len(day.orders)}."]
    sentences += [
        f"{u.rule}{f' ({u.subject})' if u.subject else ''} is {u.used:.0%} used." for u in near
    ]
    return section(
        "risk",
        "Risk limits used",
        text_=sentences,
        tables=[
            {
                "title": "Limits (the portfolio's current limits, the state at the close)",
                "columns": ["rule", "subject", "limit", "value", "used"],
                "rows": [
                    [
                        i["rule"],
                        i["subject"],
                        f"{i['limit']:.6g}",
                        f"{i['value']:.6g}",
                        f"{i['used']:.1%}",
                    ]
                    for i in items
                ],
            }
        ],
        data={"orders": len(day.orders), "usage": items},
    )


def ai_decisions(day: PortfolioDay) -> Section:
    """The owner's AI decisions of the day and their outcomes once known."""
    items = [
        {
            "id": str(d.id),
            "time": d.created_at.isoformat(),
            "symbol": d.symbol,
            "action": d.action,
            "confidence": d.confidence,
            "executed": d.executed,
            "outcome_return": d.outcome_return,
        }
        for d in day.decisions
    ]
    known = [d for d in day.decisions if d.outcome_return is not None and d.action != "hold"]
    right = sum(1 for d in known if (d.outcome_return or 0.0) > 0 and d.action == "buy") + sum(
        1 for d in known if (d.outcome_return or 0.0) < 0 and d.action == "sell"
    )
    sentences = [
        f"{len(items)} decision(s), {sum(1 for d in day.decisions if d.executed)} executed; "
        f"{len(known)} with a known outcome, {right} in the right direction."
    ]
    columns = ["time", "symbol", "action", "confidence", "executed", "outcome_return"]
    return section(
        "ai_decisions",
        "AI decisions",
        text_=sentences,
        tables=[
            {
                "title": "Decisions",
                "columns": columns,
                "rows": [
                    [
                        i["time"],
                        i["symbol"],
                        i["action"],
                        f"{i['confidence']:.3f}",
                        "yes" if i["executed"] else "no",
                        None if i["outcome_return"] is None else f"{i['outcome_return']:+.4f}",
                    ]
                    for i in items
                ],
            }
        ],
        data={"count": len(items), "items": items, "with_outcome": len(known), "right": right},
    )
