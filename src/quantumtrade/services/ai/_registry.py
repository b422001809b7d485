"""The model registry: train a symbol's models, store each version, load what is ready.

Every trained model is a row of ``ai_models``: its pickled artefact, content hash, training
window, features, configuration and walk-forward metrics, numbered per symbol, horizon and
model. Each replica loads the newest version of each model from the database (and keeps the
unpickled artefact in memory by row id), so all replicas decide with the same models. A
retraining whose result has the content hash of the newest version stores nothing new.

Training runs per model in the app's training processes (``AI_TRAIN_WORKERS``, spawned on
first use, so training never holds the API's interpreter lock), or on Dask when
``DASK_SCHEDULER_ADDRESS`` is set; a first request's quick models train in a thread. The
models being trained are named in the cache (``ai:training:...``) so every replica can say
which ones are missing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import pickle
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from quantumtrade.backtest import compute
from quantumtrade.db.models import AIModel
from quantumtrade.ml import pipeline
from quantumtrade.ml.pipeline import (
    ConsensusModel,
    PipelineConfig,
    TrainedModel,
    TrainingData,
    WalkForwardShared,
)
from quantumtrade.services.ai import _data
from quantumtrade.services.container import Container

_log = logging.getLogger(__name__)
T = TypeVar("T")

FAST_MODELS = ("rules", "pattern", "sentiment", *pipeline.BASELINE_NAMES)
"""Trained within the first request for a symbol (seconds); the others train in the background."""
SLOW_MODELS = ("gbm", "lstm")
TRAINING_TTL_SECONDS = 3600.0
LATEST_TTL_SECONDS = 30.0
CONSENSUS = "consensus"

_artefacts: dict[uuid.UUID, Any] = {}  # unpickled artefacts by row id (rows never change)
_consensus: dict[tuple[str, ...], ConsensusModel] = {}


def config_for(container: Container, horizon: int) -> PipelineConfig:
    s = container.settings
    return PipelineConfig(
        horizon=horizon,
        n_splits=s.ai_folds,
        min_train=s.ai_min_train_bars,
        seed=s.ai_seed,
        gbm_trees=s.ai_gbm_trees,
        lstm_epochs=s.ai_lstm_epochs,
    )


def _training_key(symbol: str, horizon: int) -> str:
    return f"ai:training:{symbol}:{horizon}"


def _latest_key(symbol: str, horizon: int) -> str:
    return f"ai:latest:{symbol}:{horizon}"


def decision_key(symbol: str, horizon: int) -> str:
    """Return the cache key of ``symbol``'s current decision (dropped with each new version)."""
    return f"ai:decision:{symbol}:{horizon}"


async def training_now(container: Container, symbol: str, horizon: int) -> list[str]:
    """Return the models of ``symbol`` some replica is training now."""
    names = await container.cache.get_json(_training_key(symbol, horizon))
    return [str(n) for n in names] if isinstance(names, list) else []


async def _mark_training(container: Container, symbol: str, horizon: int, names: list[str]) -> None:
    key = _training_key(symbol, horizon)
    if names:
        await container.cache.set_json(key, names, TRAINING_TTL_SECONDS)
    else:
        await container.cache.delete(key)


# -- training ---------------------------------------------------------------------------------


async def raw_inputs(
    container: Container, symbol: str
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Return ``symbol``'s bars and its news tone at each bar: what training reads."""
    bars = await _data.bars(container, symbol)
    tones = await _data.tone_series(container, symbol, pd.DatetimeIndex(bars.index))
    return bars, tones


def _train_on_dask(
    shared: WalkForwardShared, names: Sequence[str], address: str
) -> list[tuple[TrainedModel, float]]:
    """Train ``names`` on the Dask cluster; each result with its training seconds."""
    with compute.backend_from_address(address) as backend:
        return backend.map(timed_train, list(names), shared=shared)


class _Pool:
    """The app's training processes: training never competes with requests for the GIL.

    Started on first use (each worker imports PyTorch once) and shut down with the app.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Return ``fn(*args)`` computed in a training process."""
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, fn, *args)
        except BrokenProcessPool:
            self.executor = None  # a worker died: the next training starts a fresh pool
            raise

    async def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None


def _pool(container: Container) -> _Pool:
    pool = container.state.get("ai_pool")
    if not isinstance(pool, _Pool):
        pool = container.state["ai_pool"] = _Pool(container.settings.ai_train_workers)
        container.add_closer(pool.close)
    return pool


def _training_data(
    bars: pd.DataFrame, config: PipelineConfig, tones: dict[str, pd.Series]
) -> TrainingData:
    return pipeline.training_data(bars, config, sentiment=tones)


def timed_train(shared: WalkForwardShared, name: str) -> tuple[TrainedModel, float]:
    """Train ``name`` on the shared data (on any backend); return it and the seconds taken."""
    started = time.perf_counter()
    trained = pipeline.train_model(shared, name)
    return trained, time.perf_counter() - started


async def train(
    container: Container,
    symbol: str,
    horizon: int,
    names: Sequence[str] | None = None,
    *,
    backend: bool = True,
) -> list[AIModel]:
    """Train ``names`` (all models by default) of ``symbol`` and store the new versions.

    ``backend=False`` trains in a thread of this process (the quick models of a first
    request); otherwise in the app's training processes, or on Dask when configured.
    Returns the stored (or unchanged) rows.
    """
    wanted = list(pipeline.model_names(names))
    config = config_for(container, horizon)
    bars, tones = await raw_inputs(container, symbol)
    busy = set(await training_now(container, symbol, horizon))
    await _mark_training(container, symbol, horizon, sorted(busy | set(wanted)))
    try:
        address = container.settings.dask_scheduler_address
        in_pool = backend and not address
        if in_pool:
            pool = _pool(container)
            data = await pool.call(_training_data, bars, config, tones)
        else:
            data = await asyncio.to_thread(_training_data, bars, config, tones)
        shared = WalkForwardShared(data=data, config=config)
        if in_pool:
            results = [await pool.call(timed_train, shared, n) for n in wanted]
        elif backend and address:
            results = await asyncio.to_thread(_train_on_dask, shared, wanted, address)
        else:
            results = [await asyncio.to_thread(timed_train, shared, name) for name in wanted]
        rows = [await _store(container, symbol, horizon, t, seconds) for t, seconds in results]
        ready = await ready_models(container, symbol, horizon, fresh=True)
        if any(n in pipeline.FORECASTERS for n in ready):
            rows.append(await _store_consensus(container, symbol, horizon, ready))
        return rows
    finally:
        left = set(await training_now(container, symbol, horizon)) - set(wanted)
        await _mark_training(container, symbol, horizon, sorted(left))


def _window(trained: TrainedModel) -> tuple[datetime, datetime]:
    start, end = trained.window
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


async def _insert(
    container: Container,
    *,
    symbol: str,
    horizon: int,
    name: str,
    content_hash: str,
    values: dict[str, Any],
) -> AIModel:
    """Store a new version unless the newest already has this content hash."""
    for _ in range(3):
        async with container.session_factory() as db:
            newest = await db.scalar(
                sa.select(AIModel)
                .where(AIModel.symbol == symbol, AIModel.horizon == horizon, AIModel.name == name)
                .order_by(AIModel.version.desc())
                .limit(1)
            )
            if newest is not None and newest.content_hash == content_hash:
                return newest
            row = AIModel(
                id=uuid.uuid4(),
                symbol=symbol,
                horizon=horizon,
                name=name,
                version=1 if newest is None else newest.version + 1,
                content_hash=content_hash,
                created_at=container.clock.now(),
                **values,
            )
            db.add(row)
            try:
                await db.commit()
            except IntegrityError:  # another replica stored this version first: look again
                await db.rollback()
                continue
            await container.cache.delete(
                _latest_key(symbol, horizon), decision_key(symbol, horizon)
            )
            return row
    raise RuntimeError(f"could not store a version of {symbol} {name}")


async def _store(
    container: Container, symbol: str, horizon: int, trained: TrainedModel, seconds: float
) -> AIModel:
    start, end = _window(trained)
    return await _insert(
        container,
        symbol=symbol,
        horizon=horizon,
        name=trained.name,
        content_hash=trained.content_hash,
        values={
            "feature_version": trained.feature_version,
            "features": list(trained.columns),
            "config": trained.config,
            "window_start": start,
            "window_end": end,
            "metrics": _json_safe(trained.metrics()),
            "artefact": pickle.dumps(trained, protocol=pickle.HIGHEST_PROTOCOL),
            "train_seconds": seconds,
        },
    )


async def _store_consensus(
    container: Container, symbol: str, horizon: int, ready: dict[str, Loaded]
) -> AIModel:
    started = time.perf_counter()
    consensus = consensus_for({n: m.trained for n, m in ready.items()})
    member = ready[consensus.members[0]].trained
    start, end = _window(member)
    return await _insert(
        container,
        symbol=symbol,
        horizon=horizon,
        name=CONSENSUS,
        content_hash=consensus.content_hash,
        values={
            "feature_version": member.feature_version,
            "features": list(member.columns),
            "config": member.config,
            "window_start": start,
            "window_end": end,
            "metrics": _json_safe(
                {
                    "walk_forward": consensus.scorecard,
                    "members": list(consensus.members),
                    "weights": consensus.consensus.weights,
                    "intercept": consensus.consensus.intercept,
                }
            ),
            "artefact": pickle.dumps(consensus, protocol=pickle.HIGHEST_PROTOCOL),
            "train_seconds": time.perf_counter() - started,
        },
    )


def _json_safe(value: Any) -> Any:
    """Return ``value`` with non-finite floats as None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


# -- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Loaded:
    """A ready model: its registry row's identity and the fitted model."""

    id: uuid.UUID
    name: str
    version: int
    content_hash: str
    trained: TrainedModel


async def _latest_ids(
    container: Container, symbol: str, horizon: int, fresh: bool
) -> list[dict[str, Any]]:
    async def load() -> list[dict[str, Any]]:
        async with container.session_factory() as db:
            newest = (
                sa.select(AIModel.name, sa.func.max(AIModel.version).label("version"))
                .where(AIModel.symbol == symbol, AIModel.horizon == horizon)
                .group_by(AIModel.name)
                .subquery()
            )
            rows = await db.execute(
                sa.select(AIModel.id, AIModel.name, AIModel.version, AIModel.content_hash)
                .join(
                    newest,
                    sa.and_(AIModel.name == newest.c.name, AIModel.version == newest.c.version),
                )
                .where(AIModel.symbol == symbol, AIModel.horizon == horizon)
            )
            return [
                {"id": str(r.id), "name": r.name, "version": r.version, "hash": r.content_hash}
                for r in rows
            ]

    if fresh:
        await container.cache.delete(_latest_key(symbol, horizon))
    found: list[dict[str, Any]] = await container.cache.get_or_load(
        _latest_key(symbol, horizon), LATEST_TTL_SECONDS, load
    )
    return found


async def ready_models(
    container: Container, symbol: str, horizon: int, *, fresh: bool = False
) -> dict[str, Loaded]:
    """Return the newest version of each trained model of ``symbol`` (not the consensus)."""
    out: dict[str, Loaded] = {}
    for entry in await _latest_ids(container, symbol, horizon, fresh):
        if entry["name"] == CONSENSUS:
            continue
        row_id = uuid.UUID(entry["id"])
        trained: TrainedModel | None = _artefacts.get(row_id)
        if trained is None:
            async with container.session_factory() as db:
                blob = await db.scalar(sa.select(AIModel.artefact).where(AIModel.id == row_id))
            if blob is None:
                continue
            trained = await asyncio.to_thread(_unpickle, blob)
            _artefacts[row_id] = trained
        out[entry["name"]] = Loaded(row_id, entry["name"], entry["version"], entry["hash"], trained)
    return out


def _unpickle(blob: bytes) -> TrainedModel:
    trained: TrainedModel = pickle.loads(blob)  # noqa: S301 (our own artefact, from our database)
    return trained


def consensus_for(models: dict[str, TrainedModel]) -> ConsensusModel:
    """Return the consensus of these models, fitted once per set of member versions."""
    members = pipeline.same_window(models)
    key = tuple(sorted(m.content_hash for m in members.values()))
    found = _consensus.get(key)
    if found is None:
        found = pipeline.consensus_of(models)
        _consensus[key] = found
    return found
