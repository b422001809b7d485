"""JSON views of sentiment values: what the API sends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np

from quantumtrade.domain.news import NewsItem, SocialPost
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.ml.sentiment import SentimentResult, label_for, without_names
from quantumtrade.ml.sentiment.signals import InsiderSummary, OptionsSummary


def company_names(infos: Iterable[SymbolInfo]) -> dict[str, str]:
    """Each symbol's company name, left out of the texts scored (a name is not a tone)."""
    return {info.symbol: info.name for info in infos if info.name}


def news_text(item: NewsItem, names: Mapping[str, str] | None = None) -> str:
    """The text a story is scored on: its headline and summary, company names left out.

    ``names`` maps symbols to company names; the names of the symbols the story is about
    are replaced by a neutral stand-in (see :func:`~quantumtrade.ml.sentiment.without_names`).
    """
    text = f"{item.headline}. {item.summary}" if item.summary else item.headline
    return _unnamed(text, item.symbols, names)


def post_text(post: SocialPost, names: Mapping[str, str] | None = None) -> str:
    """The text a post is scored on, company names left out."""
    return _unnamed(post.text, post.symbols, names)


def _unnamed(text: str, symbols: tuple[str, ...], names: Mapping[str, str] | None) -> str:
    if not names:
        return text
    return without_names(text, [names[s] for s in symbols if s in names])


def news_item(item: NewsItem, result: SentimentResult) -> dict[str, Any]:
    return {
        "id": item.id,
        "headline": item.headline,
        "summary": item.summary,
        "author": item.author,
        "source": item.source,
        "url": item.url,
        "symbols": list(item.symbols),
        "created_at": item.created_at.isoformat(),
        "sentiment": result.to_dict(),
    }


def social_item(post: SocialPost, result: SentimentResult) -> dict[str, Any]:
    return {
        "id": post.id,
        "text": post.text,
        "author": post.author,
        "followers": post.followers,
        "platform": post.platform,
        "symbols": list(post.symbols),
        "created_at": post.created_at.isoformat(),
        "likes": post.likes,
        "reposts": post.reposts,
        "sentiment": result.to_dict(),
    }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def tone_component(signal: Any, items: int, now: datetime) -> dict[str, Any]:
    """A news or social component: decayed tone, 24-hour count, baseline and change."""
    if signal is None:
        return {
            "status": "ok",
            "score": None,
            "label": None,
            "items": 0,
            "count_24h": 0,
            "baseline": None,
            "change": None,
            "weight": 0.0,
        }
    score = _finite(signal.score[0])
    return {
        "status": "ok",
        "score": score,
        "label": None if score is None else label_for(score),
        "items": items,
        "count_24h": int(signal.count[0]),
        "baseline": _finite(signal.baseline[0]),
        "change": _finite(signal.change[0]),
        "weight": float(signal.weight[0]),
    }


def insider_summary(summary: InsiderSummary) -> dict[str, Any]:
    return {
        "score": summary.score,
        "window_days": summary.window_days,
        "trades": summary.trades,
        "purchases": summary.purchases,
        "discretionary_sales": summary.discretionary_sales,
        "planned_sales": summary.planned_sales,
        "buyers": summary.buyers,
        "sellers": summary.sellers,
        "net_shares": summary.net_shares,
        "net_value": summary.net_value,
        "cluster_buy": summary.cluster_buy,
        "cluster_buyers": list(summary.cluster_buyers),
        "by_role": {role: asdict(flow) for role, flow in summary.by_role.items()},
    }


def filing(item: Any) -> dict[str, Any]:
    """One Form 4 filing: who, in what role, and each transaction, as reported."""
    form = item.form
    owners = [
        {
            "cik": o.cik,
            "name": o.name,
            "is_director": o.is_director,
            "is_officer": o.is_officer,
            "is_ten_percent_owner": o.is_ten_percent_owner,
            "officer_title": o.officer_title,
        }
        for o in form.reporting_owners
    ]
    rows = []
    for tx in form.non_derivative_transactions:
        rows.append(
            {
                "security": tx.security_title.value,
                "date": None
                if tx.transaction_date.value is None
                else tx.transaction_date.value.isoformat(),
                "code": tx.code,
                "shares": _num(tx.amounts.shares.value),
                "price": _num(tx.amounts.price.value),
                "acquired": tx.acquired,
                "shares_after": _num(tx.shares_after.value),
                "ownership": tx.ownership.direct_or_indirect.value,
                "footnotes": form.notes(tx.coding)
                + form.notes(tx.amounts.shares)
                + form.notes(tx.amounts.price),
            }
        )
    return {
        "accession_number": item.accession_number,
        "filed_at": item.filed.isoformat(),
        "document_type": form.document_type,
        "period_of_report": form.period_of_report.isoformat(),
        "owners": owners,
        "transactions": rows,
        "derivative_transactions": len(form.derivative_transactions),
    }


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def options_summary(summary: OptionsSummary, limit: int) -> dict[str, Any]:
    return {
        "score": summary.score,
        "put_call_volume": summary.put_call_volume,
        "put_call_open_interest": summary.put_call_open_interest,
        "call_volume": summary.call_volume,
        "put_volume": summary.put_volume,
        "iv": summary.iv_now,
        "iv_rank": summary.iv_rank,
        "iv_percentile": summary.iv_percentile,
        "skew_25d": summary.skew_25d,
        "skew_expiry": None if summary.skew_expiry is None else summary.skew_expiry.isoformat(),
        "unusual_count": len(summary.unusual),
        "unusual_call_premium": summary.unusual_call_premium,
        "unusual_put_premium": summary.unusual_put_premium,
        "unusual": [
            {
                "symbol": u.symbol,
                "kind": u.kind,
                "expiry": u.expiry.isoformat(),
                "strike": u.strike,
                "time": u.time.isoformat(),
                "size": u.size,
                "price": u.price,
                "premium": u.premium,
                "side": u.side,
                "sweep": u.sweep,
                "volume": u.volume,
                "open_interest": u.open_interest,
            }
            for u in summary.unusual[:limit]
        ],
    }


def chain(value: Any, source: str) -> dict[str, Any]:
    """An option chain: the underlying's price and every contract's quote and greeks."""
    return {
        "symbol": value.underlying,
        "source": source,
        "spot": float(value.spot),
        "as_of": value.at.isoformat(),
        "expiries": sorted({c.expiry.isoformat() for c in value.contracts}),
        "contracts": [
            {
                "symbol": c.symbol,
                "expiry": c.expiry.isoformat(),
                "kind": c.kind,
                "strike": float(c.strike),
                "bid": float(c.bid),
                "ask": float(c.ask),
                "mark": float(c.mark),
                "iv": float(c.iv),
                "delta": float(c.delta),
                "gamma": float(c.gamma),
                "vega": float(c.vega),
                "theta": float(c.theta),
                "volume": int(c.volume),
                "open_interest": int(c.open_interest),
            }
            for c in value.contracts
        ],
    }
