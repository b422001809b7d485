"""AI decision use cases: decide, list, execute, the model registry, evaluations.

A decision is computed once per symbol and horizon and cached for ``AI_DECISION_TTL_SECONDS``
(every replica shares it); it is stored as a system row of ``ai_decisions`` (the live track
record is measured on those) and pushed on the symbol's ``ai`` channel. Each user who asks
gets their own row, a copy, which they may execute once, before it expires, through the
paper-trading path (same risk checks, same refusals).

On a symbol's first request the quick models (rules, patterns, sentiment and the baselines)
train within the request, in a few seconds; the gradient-boosted model and the LSTM train in
the background and the decision names them as pending until they are ready.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from quantumtrade.db.models import AIDecision, AIModel
from quantumtrade.domain.errors import Conflict, NotFound, Unprocessable
from quantumtrade.domain.execution import Side
from quantumtrade.domain.market import Timeframe
from quantumtrade.domain.trading.orders import OrderSpec, OrderType, TimeInForce
from quantumtrade.ml import pipeline
from quantumtrade.ml.consensus import Decision
from quantumtrade.ml.evaluation import reliability, scorecard
from quantumtrade.services import market
from quantumtrade.services.ai import _data, _jobs, _registry
from quantumtrade.services.ai._jobs import get_job as get_job
from quantumtrade.services.ai._jobs import job_view as job_view
from quantumtrade.services.backtests import BacktestRunner
from quantumtrade.services.container import Container
from quantumtrade.services.market_feed import market_channel

_log = logging.getLogger(__name__)

MAX_HORIZON = 20
MAX_LIST = 200
LIVE_TAIL_DAYS = 120  # news and posts read for a live decision's sentiment columns


def resolve(container: Container, symbol: str) -> str:
    """Return the canonical symbol, or raise 404 for one the market does not serve."""
    return market.known_symbol(container, symbol)


def check_horizon(container: Container, horizon: int) -> int:
    """Return ``horizon`` if models are kept for it (``AI_HORIZONS``), else raise 422."""
    allowed = sorted(set(container.settings.ai_horizons) | {container.settings.ai_default_horizon})
    if horizon not in allowed:
        raise Unprocessable(
            f"horizon must be one of {', '.join(map(str, allowed))} daily bars.",
            code="invalid_horizon",
            details={"allowed": allowed},
        )
    return horizon


# -- readiness --------------------------------------------------------------------------------


@dataclass
class _Training:
    """This app's background trainings: one task per symbol and horizon, one at a time."""

    tasks: dict[tuple[str, int], asyncio.Task[None]] = field(default_factory=dict)
    slot: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()


def _training(container: Container) -> _Training:
    state = container.state.get("ai_training")
    if not isinstance(state, _Training):
        state = container.state["ai_training"] = _Training()
        container.add_closer(state.stop)
    return state


def train_in_background(container: Container, symbol: str, horizon: int, names: list[str]) -> None:
    """Start training ``names`` of ``symbol`` unless this app is training it already."""
    state = _training(container)
    running = state.tasks.get((symbol, horizon))
    if running is not None and not running.done():
        return

    async def work() -> None:
        try:
            async with state.slot:  # the API keeps a core: one background training at once
                await _registry.train(container, symbol, horizon, names)
        except Exception:
            _log.exception("training %s (horizon %d) failed", symbol, horizon)

    state.tasks[(symbol, horizon)] = asyncio.create_task(
        work(), name=f"ai-train-{symbol}-{horizon}"
    )


async def ensure_models(
    container: Container, symbol: str, horizon: int
) -> dict[str, _registry.Loaded]:
    """Return the ready models, training the quick ones now and the slow ones in the background."""
    ready = await _registry.ready_models(container, symbol, horizon)
    if not any(name in pipeline.FORECASTERS for name in ready):
        try:
            await _registry.train(container, symbol, horizon, _registry.FAST_MODELS, backend=False)
        except ValueError as exc:
            raise Unprocessable(
                f"Not enough history to train on {symbol}: {exc}.", code="not_enough_history"
            ) from exc
        ready = await _registry.ready_models(container, symbol, horizon, fresh=True)
    missing = [n for n in pipeline.MODEL_NAMES if n not in ready]
    if missing and not await _registry.training_now(container, symbol, horizon):
        train_in_background(container, symbol, horizon, missing)
    return ready


# -- deciding ---------------------------------------------------------------------------------


async def shared_decision(container: Container, symbol: str, horizon: int) -> dict[str, Any]:
    """Return the current decision of ``symbol`` (computed at most once per TTL).

    A cached decision is dropped when it has expired by the server's clock, or when a new
    model version was stored (the registry drops it then).
    """
    key = _registry.decision_key(symbol, horizon)

    async def load() -> dict[str, Any]:
        view: dict[str, Any] = await container.cache.get_or_load(
            key,
            container.settings.ai_decision_ttl_seconds,
            lambda: _compute(container, symbol, horizon),
        )
        return view

    view = await load()
    if datetime.fromisoformat(view["expires_at"]) <= container.clock.now():
        await container.cache.delete(key)
        view = await load()
    return view


async def _context(container: Container, symbol: str) -> tuple[Any, Any]:
    """Return the regime and sentiment views of ``symbol`` (None where unavailable)."""
    from quantumtrade.services import regime, sentiment

    found: list[Any] = []
    loads: tuple[Callable[[], Awaitable[dict[str, Any]]], ...] = (
        lambda: regime.current(container, symbol, Timeframe.DAY_1),
        lambda: sentiment.symbol_view(container, symbol),
    )
    for load in loads:
        try:
            found.append(await load())
        except Exception:  # context, not a condition of the decision
            _log.info("no context for %s", symbol, exc_info=True)
            found.append(None)
    return found[0], found[1]


async def _compute(container: Container, symbol: str, horizon: int) -> dict[str, Any]:
    ready = await ensure_models(container, symbol, horizon)
    bars = await _data.bars(container, symbol)
    if len(bars) < pipeline.LSTM_TAIL:
        raise Unprocessable(f"Too little history for {symbol}.", code="not_enough_history")
    index = pd.DatetimeIndex(bars.index)
    tones = await _data.tone_series(
        container, symbol, index[-pipeline.LSTM_TAIL :], lookback=timedelta(days=LIVE_TAIL_DAYS)
    )
    trained = {n: m.trained for n, m in ready.items()}
    decision, top, consensus = await asyncio.to_thread(
        _decide, container, trained, bars, tones, horizon
    )
    training = await _registry.training_now(container, symbol, horizon)
    regime_view, sentiment_view = await _context(container, symbol)
    now = container.clock.now()
    price = float(bars["close"].iloc[-1])
    view = _view(
        symbol=symbol,
        decision=decision,
        ready=ready,
        consensus=consensus,
        top=top,
        price=price,
        bar_time=index[-1].to_pydatetime(),
        now=now,
        ttl=container.settings.ai_decision_ttl_seconds,
        pending=[n for n in pipeline.MODEL_NAMES if n not in ready],
        training=training,
        regime_view=regime_view,
        sentiment_view=sentiment_view,
    )
    row = await _store(container, None, view)
    view["id"] = str(row.id)
    container.metrics.count_ai_decision()
    await container.bus.publish(market_channel(symbol), {"type": "ai", **view})
    return view


def _decide(
    container: Container,
    trained: dict[str, pipeline.TrainedModel],
    bars: pd.DataFrame,
    tones: dict[str, pd.Series],
    horizon: int,
) -> tuple[Decision, list[dict[str, Any]], pipeline.ConsensusModel]:
    s = container.settings
    consensus = _registry.consensus_for(trained)
    regime = trained[consensus.members[0]].regime
    X = pipeline.inputs(bars, horizon=horizon, sentiment=tones, regime=regime)
    decision, _ = pipeline.decide(
        consensus,
        trained,
        X,
        bars,
        cost=s.ai_cost,
        threshold=s.ai_edge_threshold,
        kelly_fraction=s.ai_kelly_fraction,
        max_position_fraction=s.ai_max_position_fraction,
    )
    return decision, pipeline.top_features(trained.get("gbm"), X), consensus


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


_RECORD_KEYS = (
    "n",
    "accuracy",
    "brier",
    "climatology_brier",
    "brier_skill",
    "ece",
    "ic",
    "base_rate",
)


def _view(
    *,
    symbol: str,
    decision: Decision,
    ready: dict[str, _registry.Loaded],
    consensus: pipeline.ConsensusModel,
    top: list[dict[str, Any]],
    price: float,
    bar_time: datetime,
    now: datetime,
    ttl: float,
    pending: list[str],
    training: list[str],
    regime_view: Any,
    sentiment_view: Any,
) -> dict[str, Any]:
    votes = []
    for vote in decision.votes:
        loaded = ready[vote.model]
        votes.append(
            {
                "model": vote.model,
                "probability_up": vote.probability_up,
                "expected_return": _finite(vote.expected_return),
                "weight": vote.weight,
                "baseline": vote.model in pipeline.BASELINE_NAMES,
                "version": loaded.version,
                "content_hash": loaded.content_hash,
                "track_record": {k: _finite(vote.track_record.get(k)) for k in _RECORD_KEYS},
            }
        )
    return {
        "symbol": symbol,
        "timeframe": _data.TIMEFRAME,
        "horizon": decision.horizon,
        "action": decision.action,
        "confidence": decision.confidence,
        "probability_up": decision.probability_up,
        "expected_return": decision.expected_return,
        "edge": decision.edge,
        "size_fraction": decision.size_fraction,
        "price": _money(price),
        "stop": None if decision.stop is None else _money(decision.stop),
        "target": None if decision.target is None else _money(decision.target),
        "bar_time": bar_time.isoformat(),
        "created_at": now.isoformat(),
        "expires_at": (now + timedelta(seconds=ttl)).isoformat(),
        "votes": votes,
        "consensus": {
            "members": list(consensus.members),
            "content_hash": consensus.content_hash,
            "track_record": {k: _finite(consensus.scorecard.get(k)) for k in _RECORD_KEYS},
        },
        "top_features": top,
        "regime": _regime_summary(regime_view),
        "sentiment": _sentiment_summary(sentiment_view),
        "models": {
            "status": "complete" if not pending else "partial",
            "ready": sorted(ready),
            "pending": pending,
            "training": training,
        },
    }


def _money(value: float) -> str:
    return str(Decimal(repr(value)).quantize(Decimal("0.0001")))


def _regime_summary(view: Any) -> dict[str, Any] | None:
    if not isinstance(view, dict):
        return None
    return {
        "trend_regime": view.get("trend_regime"),
        "probabilities": view.get("probabilities"),
        "volatility_regime": (view.get("volatility") or {}).get("regime"),
    }


def _sentiment_summary(view: Any) -> dict[str, Any] | None:
    if not isinstance(view, dict):
        return None
    return {"score": view.get("score"), "label": view.get("label"), "as_of": view.get("as_of")}


# -- storage ----------------------------------------------------------------------------------


_REASONING_KEYS = (
    "timeframe",
    "edge",
    "consensus",
    "top_features",
    "regime",
    "sentiment",
    "models",
)


async def _store(
    container: Container, user_id: uuid.UUID | None, view: dict[str, Any]
) -> AIDecision:
    reasoning = {k: view[k] for k in _REASONING_KEYS}
    if user_id is not None:
        reasoning["source_id"] = view["id"]
    row = AIDecision(
        id=uuid.uuid4(),
        user_id=user_id,
        symbol=view["symbol"],
        action=view["action"],
        confidence=view["confidence"],
        price=Decimal(view["price"]),
        reasoning=reasoning,
        model_votes={"votes": view["votes"]},
        executed=False,
        created_at=datetime.fromisoformat(view["created_at"]),
        horizon=view["horizon"],
        probability_up=view["probability_up"],
        expected_return=view["expected_return"],
        size_fraction=view["size_fraction"],
        stop_price=None if view["stop"] is None else Decimal(view["stop"]),
        target_price=None if view["target"] is None else Decimal(view["target"]),
        bar_time=datetime.fromisoformat(view["bar_time"]),
        expires_at=datetime.fromisoformat(view["expires_at"]),
    )
    async with container.session_factory() as db:
        db.add(row)
        await db.commit()
    return row


def decision_view(row: AIDecision) -> dict[str, Any]:
    """Return a stored decision as the API shows it."""
    reasoning = row.reasoning or {}
    outcome = None
    if row.outcome_at is not None and row.outcome_return is not None:
        outcome = {
            "return": row.outcome_return,
            "up": row.outcome_return > 0,
            "correct": None
            if row.action == "hold"
            else (row.outcome_return > 0) == (row.action == "buy"),
            "resolved_at": row.outcome_at.isoformat(),
        }
    return {
        "id": str(row.id),
        "symbol": row.symbol,
        "timeframe": reasoning.get("timeframe", _data.TIMEFRAME),
        "horizon": row.horizon,
        "action": row.action,
        "confidence": row.confidence,
        "probability_up": row.probability_up,
        "expected_return": row.expected_return,
        "edge": reasoning.get("edge"),
        "size_fraction": row.size_fraction,
        "price": None if row.price is None else str(row.price.quantize(Decimal("0.0001"))),
        "stop": None if row.stop_price is None else str(row.stop_price.quantize(Decimal("0.0001"))),
        "target": None
        if row.target_price is None
        else str(row.target_price.quantize(Decimal("0.0001"))),
        "bar_time": None if row.bar_time is None else row.bar_time.isoformat(),
        "created_at": row.created_at.isoformat(),
        "expires_at": None if row.expires_at is None else row.expires_at.isoformat(),
        "votes": (row.model_votes or {}).get("votes", []),
        "consensus": reasoning.get("consensus"),
        "top_features": reasoning.get("top_features", []),
        "regime": reasoning.get("regime"),
        "sentiment": reasoning.get("sentiment"),
        "models": reasoning.get("models"),
        "executed": row.executed,
        "order_id": None if row.order_id is None else str(row.order_id),
        "portfolio_id": None if row.portfolio_id is None else str(row.portfolio_id),
        "executed_at": None if row.executed_at is None else row.executed_at.isoformat(),
        "outcome": outcome,
    }


async def decision_for(
    container: Container, user_id: uuid.UUID, symbol: str, horizon: int | None
) -> dict[str, Any]:
    """Return the user's decision on ``symbol``: the current one, stored as theirs."""
    canonical = resolve(container, symbol)
    h = check_horizon(
        container, container.settings.ai_default_horizon if horizon is None else horizon
    )
    shared = await shared_decision(container, canonical, h)
    async with container.session_factory() as db:
        rows = await db.scalars(
            sa.select(AIDecision)
            .where(
                AIDecision.user_id == user_id,
                AIDecision.symbol == canonical,
                AIDecision.horizon == h,
                AIDecision.created_at >= datetime.fromisoformat(shared["created_at"]),
            )
            .order_by(AIDecision.created_at.desc())
        )
        for row in rows:
            if (row.reasoning or {}).get("source_id") == shared["id"]:
                return decision_view(row)
    return decision_view(await _store(container, user_id, shared))


async def list_decisions(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    symbol: str | None,
    action: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Return a page of the user's decisions, newest first, with their outcomes."""
    where = [AIDecision.user_id == user_id]
    if symbol:
        where.append(AIDecision.symbol == symbol.strip().upper())
    if action:
        where.append(AIDecision.action == action)
    if since is not None:
        where.append(AIDecision.created_at >= since)
    total = await db.scalar(sa.select(sa.func.count()).select_from(AIDecision).where(*where))
    rows = await db.scalars(
        sa.select(AIDecision)
        .where(*where)
        .order_by(AIDecision.created_at.desc(), AIDecision.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [decision_view(r) for r in rows], int(total or 0)


async def get_decision(db: AsyncSession, user_id: uuid.UUID, decision_id: uuid.UUID) -> AIDecision:
    row = await db.get(AIDecision, decision_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Decision not found.", code="decision_not_found")
    return row


# -- execution --------------------------------------------------------------------------------


async def _release(container: Container, decision_id: uuid.UUID) -> None:
    async with container.session_factory() as db:
        await db.execute(
            sa.update(AIDecision)
            .where(AIDecision.id == decision_id, AIDecision.order_id.is_(None))
            .values(executed=False, portfolio_id=None)
        )
        await db.commit()


async def _suggested_notional(
    container: Container,
    desk: Any,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    fraction: float,
) -> Decimal:
    from quantumtrade.services.trading.portfolios import default_portfolio, figures, get_portfolio

    async with container.session_factory() as db:
        portfolio = (
            await default_portfolio(db, desk=desk, user_id=user_id)
            if portfolio_id is None
            else await get_portfolio(db, user_id=user_id, portfolio_id=portfolio_id)
        )
        account, _, _ = await figures(db, desk=desk, portfolio=portfolio)
    return (account.equity * Decimal(repr(fraction))).quantize(Decimal("0.01"), ROUND_DOWN)


async def execute(
    container: Container,
    *,
    batcher: Any,
    access_token: str,
    user_id: uuid.UUID,
    decision_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    qty: Decimal | None,
    notional: Decimal | None,
    use_suggested_size: bool,
) -> dict[str, Any]:
    """Place the decision's order through the paper-trading path, once, before it expires."""
    async with container.session_factory() as db:
        row = await get_decision(db, user_id, decision_id)
    if row.action == "hold":
        raise Unprocessable(
            "A hold decision has no order to place.", code="decision_not_actionable"
        )
    if row.executed:
        raise Conflict(
            "This decision has been executed already.",
            code="decision_already_executed",
            details={"order_id": None if row.order_id is None else str(row.order_id)},
        )
    now = container.clock.now()
    if row.expires_at is not None and now >= row.expires_at:
        raise Unprocessable(
            f"This decision expired at {row.expires_at.isoformat()}; ask for a fresh one.",
            code="decision_stale",
            details={"expires_at": row.expires_at.isoformat()},
        )
    if use_suggested_size:
        notional = await _suggested_notional(
            container, batcher.desk, user_id, portfolio_id, row.size_fraction or 0.0
        )
        if notional <= 0:
            raise Unprocessable("The suggested size is zero.", code="size_too_small")
        info = batcher.desk.symbol_info(row.symbol)
        if not info.fractionable:
            price = await batcher.desk.last_price(row.symbol)
            qty, notional = (notional / price).to_integral_value(ROUND_DOWN), None
            if qty <= 0:
                raise Unprocessable(
                    "The suggested size is less than one share.", code="size_too_small"
                )
    async with container.session_factory() as db:
        claimed = await db.execute(
            sa.update(AIDecision)
            .where(AIDecision.id == decision_id, AIDecision.executed.is_(False))
            .values(executed=True, portfolio_id=portfolio_id)
        )
        await db.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This decision has been executed already.", code="decision_already_executed")
    asset = batcher.desk.symbol_info(row.symbol).asset_class
    spec = OrderSpec(
        symbol=row.symbol,
        side=Side.BUY if row.action == "buy" else Side.SELL,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.GTC if asset == "crypto" else TimeInForce.DAY,
        qty=qty,
        notional=notional,
        client_order_id=f"ai-{decision_id}",
    )
    try:
        order = await batcher.place(
            access_token=access_token, portfolio_id=portfolio_id, spec=spec, source="ai"
        )
    except BaseException:
        await _release(container, decision_id)
        raise
    async with container.session_factory() as db:
        await db.execute(
            sa.update(AIDecision)
            .where(AIDecision.id == decision_id)
            .values(
                order_id=uuid.UUID(order["id"]),
                portfolio_id=uuid.UUID(order["portfolio_id"]),
                executed_at=now,
            )
        )
        await db.commit()
        row = await get_decision(db, user_id, decision_id)
        await db.refresh(row)
    return {"decision": decision_view(row), "order": order}


# -- outcomes and the live record -------------------------------------------------------------


async def resolve_outcomes(container: Container, *, limit: int = 500) -> int:
    """Record the realised return of every decision whose horizon has passed; return how many.

    The return is the log return from the close of the decision's bar to the close ``horizon``
    complete bars later (the last bar, possibly still forming, never counts).
    """
    now = container.clock.now()
    async with container.session_factory() as db:
        open_rows = (
            await db.execute(
                sa.select(AIDecision.symbol, AIDecision.horizon, AIDecision.bar_time)
                .where(
                    AIDecision.outcome_at.is_(None),
                    AIDecision.bar_time.is_not(None),
                    AIDecision.horizon.is_not(None),
                    AIDecision.bar_time < now - timedelta(days=1),
                )
                .distinct()
                .limit(limit)
            )
        ).all()
    by_symbol: dict[str, list[tuple[int, datetime]]] = {}
    for symbol, horizon, bar_time in open_rows:
        if horizon is not None and bar_time is not None:
            by_symbol.setdefault(symbol, []).append((int(horizon), bar_time))
    resolved = 0
    for symbol, wanted in by_symbol.items():
        try:
            bars = await _data.bars(container, symbol)
        except Exception:
            _log.warning("no bars to resolve the decisions on %s", symbol, exc_info=True)
            continue
        index = pd.DatetimeIndex(bars.index)
        close = bars["close"].to_numpy(dtype=float)
        for horizon, bar_time in wanted:
            at = int(index.searchsorted(pd.Timestamp(bar_time)))
            if at >= len(index) or index[at] != pd.Timestamp(bar_time):
                continue
            if at + horizon > len(index) - 2:
                continue  # not enough complete bars yet
            realised = math.log(close[at + horizon] / close[at])
            async with container.session_factory() as db:
                result = await db.execute(
                    sa.update(AIDecision)
                    .where(
                        AIDecision.symbol == symbol,
                        AIDecision.horizon == horizon,
                        AIDecision.bar_time == bar_time,
                        AIDecision.outcome_at.is_(None),
                    )
                    .values(outcome_return=realised, outcome_at=now)
                )
                await db.commit()
            resolved += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return resolved


async def live_record(
    db: AsyncSession, symbol: str, horizon: int, name: str | None = None
) -> dict[str, Any]:
    """Return each model's live scorecard on the resolved decisions of ``symbol`` (system rows).

    One decision per bar counts (the first made at it), so asking more often weighs nothing.
    """
    rows = (
        await db.scalars(
            sa.select(AIDecision)
            .where(
                AIDecision.user_id.is_(None),
                AIDecision.symbol == symbol,
                AIDecision.horizon == horizon,
                AIDecision.outcome_return.is_not(None),
            )
            .order_by(AIDecision.bar_time, AIDecision.created_at)
        )
    ).all()
    first: dict[Any, AIDecision] = {}
    for row in rows:
        first.setdefault(row.bar_time, row)
    probs: dict[str, list[float]] = {}
    bases: dict[str, float] = {}
    returns: dict[str, list[float]] = {}
    for row in first.values():
        pairs = [("consensus", row.probability_up, 0.5)] + [
            (
                v["model"],
                v.get("probability_up"),
                (v.get("track_record") or {}).get("base_rate") or 0.5,
            )
            for v in (row.model_votes or {}).get("votes", [])
        ]
        for model, p, base in pairs:
            if p is None or (name is not None and model != name):
                continue
            probs.setdefault(model, []).append(float(p))
            returns.setdefault(model, []).append(float(row.outcome_return or 0.0))
            bases[model] = float(base)
    out: dict[str, Any] = {"decisions": len(first), "models": {}}
    for model, p in probs.items():
        r = returns[model]
        y = [1.0 if x > 0 else 0.0 for x in r]
        card = scorecard(p, y, r, bases[model])
        table = reliability(p, y)
        out["models"][model] = {
            **{k: _finite(v) for k, v in card.as_dict().items()},
            "reliability": [
                {str(k): _finite(float(v)) for k, v in rec.items()}
                for rec in table.to_dict("records")
            ],
        }
    return out


# -- the registry -----------------------------------------------------------------------------


def model_view(row: AIModel, *, detail: bool = False) -> dict[str, Any]:
    """Return a registry row as the API shows it (``detail``: with every metric)."""
    metrics = row.metrics or {}
    view: dict[str, Any] = {
        "id": str(row.id),
        "symbol": row.symbol,
        "horizon": row.horizon,
        "name": row.name,
        "kind": "consensus"
        if row.name == _registry.CONSENSUS
        else "baseline"
        if row.name in pipeline.BASELINE_NAMES
        else "forecaster",
        "version": row.version,
        "content_hash": row.content_hash,
        "feature_version": row.feature_version,
        "window": {"start": row.window_start.isoformat(), "end": row.window_end.isoformat()},
        "train_seconds": row.train_seconds,
        "created_at": row.created_at.isoformat(),
        "walk_forward": metrics.get("walk_forward"),
    }
    if detail:
        view |= {
            "features": row.features,
            "config": row.config,
            "folds": metrics.get("folds", []),
            "calibration_methods": metrics.get("calibration_methods", []),
            "reliability": metrics.get("reliability", []),
            "members": metrics.get("members"),
            "weights": metrics.get("weights"),
        }
    return view


async def list_models(
    db: AsyncSession,
    *,
    symbol: str | None,
    horizon: int | None,
    name: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Return a page of registry rows, newest first (without their artefacts)."""
    where = []
    if symbol:
        where.append(AIModel.symbol == symbol.strip().upper())
    if horizon is not None:
        where.append(AIModel.horizon == horizon)
    if name:
        where.append(AIModel.name == name)
    total = await db.scalar(sa.select(sa.func.count()).select_from(AIModel).where(*where))
    rows = await db.scalars(
        sa.select(AIModel)
        .options(defer(AIModel.artefact))
        .where(*where)
        .order_by(AIModel.created_at.desc(), AIModel.name, AIModel.version.desc())
        .limit(limit)
        .offset(offset)
    )
    return [model_view(r) for r in rows], int(total or 0)


async def get_model(db: AsyncSession, model_id: uuid.UUID) -> dict[str, Any]:
    """Return a registry row with its metrics per fold, calibration, baselines and live record."""
    row = await db.scalar(
        sa.select(AIModel).options(defer(AIModel.artefact)).where(AIModel.id == model_id)
    )
    if row is None:
        raise NotFound("Model not found.", code="model_not_found")
    view = model_view(row, detail=True)
    baselines = await db.execute(
        sa.select(AIModel.name, AIModel.metrics)
        .where(
            AIModel.symbol == row.symbol,
            AIModel.horizon == row.horizon,
            AIModel.name.in_(pipeline.BASELINE_NAMES),
            AIModel.window_end == row.window_end,
        )
        .order_by(AIModel.version.desc())
    )
    found: dict[str, Any] = {}
    for name, metrics in baselines:
        found.setdefault(name, (metrics or {}).get("walk_forward"))
    view["baselines"] = found
    live = await live_record(db, row.symbol, row.horizon, row.name)
    view["live"] = {"decisions": live["decisions"], **live["models"].get(row.name, {})}
    return view


async def submit_training(
    container: Container,
    runner: BacktestRunner,
    *,
    user_id: uuid.UUID,
    symbol: str,
    horizon: int,
    models: list[str] | None,
) -> dict[str, Any]:
    """Start training ``models`` of ``symbol`` as a job; return the job."""
    canonical = resolve(container, symbol)
    check_horizon(container, horizon)
    try:
        names = list(pipeline.model_names(models))
    except ValueError as exc:
        raise Unprocessable(str(exc), code="unknown_model") from exc

    async def work() -> dict[str, Any]:
        try:
            rows = await _registry.train(container, canonical, horizon, names)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="not_enough_history") from exc
        return {"models": [model_view(r) for r in rows]}

    params = {"symbol": canonical, "horizon": horizon, "models": names}
    row = await _jobs.submit(
        container, runner, user_id=user_id, kind="train", params=params, work=work
    )
    return _jobs.job_view(row)


SYNC_EVALUATE_BARS = 5_000


def _complete(bars: pd.DataFrame) -> pd.DataFrame:
    """Fill what a close-only series lacks: open, high and low at the close, volume 0."""
    out = bars.copy()
    for column in ("open", "high", "low"):
        if column not in out or out[column].isna().any():
            out[column] = out["close"] if column not in out else out[column].fillna(out["close"])
    out["volume"] = out["volume"].fillna(0.0) if "volume" in out else 0.0
    return out


async def evaluate(
    container: Container,
    runner: BacktestRunner,
    *,
    user_id: uuid.UUID,
    bars: pd.DataFrame,
    horizon: int,
) -> tuple[bool, dict[str, Any]]:
    """Evaluate every model on ``bars``: (True, report) at once, or (False, job) for many."""
    check_horizon(container, horizon)
    bars = _complete(bars)
    config = _registry.config_for(container, horizon)
    needed = pipeline.min_bars(config)
    if len(bars) < needed:
        raise Unprocessable(
            f"At least {needed} bars are needed to evaluate at horizon {horizon}; got {len(bars)}.",
            code="not_enough_bars",
            details={"min_bars": needed, "bars": len(bars)},
        )

    async def work() -> dict[str, Any]:
        return await asyncio.to_thread(pipeline.evaluate, bars, config)

    if len(bars) <= SYNC_EVALUATE_BARS:
        return True, await work()
    params = {"bars": len(bars), "horizon": horizon}
    row = await _jobs.submit(
        container, runner, user_id=user_id, kind="evaluate", params=params, work=work
    )
    return False, _jobs.job_view(row)
