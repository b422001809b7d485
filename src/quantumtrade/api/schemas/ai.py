"""Request and response bodies of ``/api/ai``: decisions, their execution, models, evaluations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantumtrade.api.schemas.common import StrictModel, Uuid
from quantumtrade.api.schemas.regime import BarIn
from quantumtrade.services.regime._bars import MAX_BARS

ModelName = Literal[
    "lstm", "gbm", "rules", "pattern", "sentiment", "always_flat", "previous_direction", "drift"
]


class TrackRecord(BaseModel):
    """Out-of-sample (walk-forward) figures: accuracy, Brier score against climatology, IC."""

    n: float | None = None
    accuracy: float | None = None
    brier: float | None = None
    climatology_brier: float | None = None
    brier_skill: float | None = None
    ece: float | None = None
    ic: float | None = None
    base_rate: float | None = None


class Vote(BaseModel):
    model: str = Field(examples=["gbm"])
    probability_up: float = Field(description="Calibrated P(forward return > 0).")
    expected_return: float | None = None
    weight: float = Field(description="Its weight in the consensus (0: no shown edge).")
    baseline: bool
    version: int
    content_hash: str
    track_record: TrackRecord


class ConsensusInfo(BaseModel):
    members: list[str]
    content_hash: str
    track_record: TrackRecord


class TopFeature(BaseModel):
    feature: str = Field(examples=["ret_20"])
    value: float
    contribution: float = Field(description="Its SHAP contribution to the boosted model's logit.")


class ModelStatus(BaseModel):
    status: Literal["complete", "partial"]
    ready: list[str]
    pending: list[str] = Field(description="Models not trained yet: the decision is without them.")
    training: list[str]


class Outcome(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    return_: float = Field(alias="return", description="Realised log return over the horizon.")
    up: bool
    correct: bool | None
    resolved_at: str


class DecisionOut(BaseModel):
    """A decision: what to do, how sure, how much, where to get out, and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c3c1e-7d1a-4b8e-9a43-0c2b7a9f1e11",
                    "symbol": "AAPL",
                    "timeframe": "1Day",
                    "horizon": 1,
                    "action": "hold",
                    "confidence": 0.51,
                    "probability_up": 0.51,
                    "expected_return": 0.0002,
                    "edge": -0.0008,
                    "size_fraction": 0.0,
                    "price": "187.2500",
                    "stop": None,
                    "target": None,
                    "executed": False,
                }
            ]
        }
    )

    id: str
    symbol: str
    timeframe: str
    horizon: int | None
    action: Literal["buy", "sell", "hold"]
    confidence: float = Field(description="Calibrated probability that the chosen side wins.")
    probability_up: float | None
    expected_return: float | None
    edge: float | None = Field(description="The better side's expected return net of costs.")
    size_fraction: float | None = Field(description="Suggested share of equity (quarter Kelly).")
    price: str | None
    stop: str | None
    target: str | None
    bar_time: str | None
    created_at: str
    expires_at: str | None
    votes: list[Vote]
    consensus: ConsensusInfo | None
    top_features: list[TopFeature]
    regime: dict[str, Any] | None
    sentiment: dict[str, Any] | None
    models: ModelStatus | None
    executed: bool
    order_id: str | None
    portfolio_id: str | None
    executed_at: str | None
    outcome: Outcome | None


class DecisionPage(BaseModel):
    items: list[DecisionOut]
    total: int
    limit: int
    offset: int


class ExecuteRequest(StrictModel):
    """Execute a decision: exactly one of ``qty``, ``notional`` and ``use_suggested_size``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"decision_id": "5f0c3c1e-7d1a-4b8e-9a43-0c2b7a9f1e11", "qty": "10"},
                {
                    "decision_id": "5f0c3c1e-7d1a-4b8e-9a43-0c2b7a9f1e11",
                    "portfolio_id": "0b7f3b8e-8a51-4a2c-9d1e-2f3a4b5c6d7e",
                    "use_suggested_size": True,
                },
            ]
        }
    )

    decision_id: Uuid
    portfolio_id: Uuid | None = None
    qty: Decimal | None = Field(default=None, gt=0, max_digits=28, decimal_places=9)
    notional: Decimal | None = Field(default=None, gt=0, max_digits=28, decimal_places=2)
    use_suggested_size: bool = False

    @model_validator(mode="after")
    def _one_size(self) -> ExecuteRequest:
        given = (self.qty is not None) + (self.notional is not None) + self.use_suggested_size
        if given != 1:
            raise ValueError("give exactly one of qty, notional and use_suggested_size")
        return self


class ExecuteResult(BaseModel):
    decision: DecisionOut
    order: dict[str, Any] = Field(description="The order, as GET /api/orders/{id} shows it.")


class ModelOut(BaseModel):
    """A model version in the registry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2d6f1c3a-9b8e-4f1a-8c2d-3e4f5a6b7c8d",
                    "symbol": "AAPL",
                    "horizon": 1,
                    "name": "gbm",
                    "kind": "forecaster",
                    "version": 3,
                    "content_hash": "9f2c0a5e" + "0" * 56,
                    "feature_version": "1.3b6d2f10",
                    "window": {
                        "start": "2020-12-01T05:00:00+00:00",
                        "end": "2026-12-04T05:00:00+00:00",
                    },
                    "train_seconds": 0.52,
                    "created_at": "2026-12-05T14:00:00+00:00",
                    "walk_forward": {"n": 740.0, "accuracy": 0.505, "brier": 0.2496, "ic": 0.021},
                }
            ]
        }
    )

    id: str
    symbol: str
    horizon: int
    name: str
    kind: Literal["forecaster", "baseline", "consensus"]
    version: int
    content_hash: str
    feature_version: str
    window: dict[str, str]
    train_seconds: float
    created_at: str
    walk_forward: dict[str, float | None] | None


class ModelDetail(ModelOut):
    features: list[str]
    config: dict[str, Any]
    folds: list[dict[str, float | None]]
    calibration_methods: list[str]
    reliability: list[dict[str, float | None]]
    members: list[str] | None
    weights: dict[str, float] | None
    baselines: dict[str, dict[str, float | None] | None]
    live: dict[str, Any] = Field(description="Hit rate, Brier and calibration of its decisions.")


class ModelPage(BaseModel):
    items: list[ModelOut]
    total: int
    limit: int
    offset: int


class TrainRequest(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"symbol": "AAPL", "horizon": 1, "models": ["gbm"]}]}
    )

    symbol: str = Field(min_length=1, max_length=20)
    horizon: int = Field(default=1, ge=1, le=20)
    models: list[ModelName] | None = Field(default=None, description="Default: all of them.")


class JobOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9b1f0f9c-2c1e-4a66-8f0e-5a7d2b3c4d5e",
                    "kind": "train",
                    "status": "queued",
                    "progress": 0.0,
                    "params": {"symbol": "AAPL", "horizon": 1, "models": ["gbm"]},
                    "result": None,
                    "error": None,
                    "created_at": "2026-12-05T14:00:00+00:00",
                    "completed_at": None,
                }
            ]
        }
    )

    id: str
    kind: Literal["train", "evaluate"]
    status: Literal["queued", "running", "completed", "failed"]
    progress: float
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: str
    completed_at: str | None


class EvaluateRequest(StrictModel):
    """Your bars (daily, oldest first) or one of your datasets, and the forecast horizon."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"dataset_id": "0b7f3b8e-8a51-4a2c-9d1e-2f3a4b5c6d7e", "horizon": 1}]
        }
    )

    bars: list[BarIn] | None = Field(default=None, max_length=MAX_BARS)
    dataset_id: Uuid | None = None
    horizon: int = Field(default=1, ge=1, le=20)

    @model_validator(mode="after")
    def _one_source(self) -> EvaluateRequest:
        if (self.bars is None) == (self.dataset_id is None):
            raise ValueError("give exactly one of bars and dataset_id")
        return self


class EvaluationOut(BaseModel):
    """Walk-forward scores per model, for the consensus and for the naive baselines."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bars": 2500,
                    "tested_bars": 1130,
                    "horizon": 1,
                    "folds": 5,
                    "models": {"gbm": {"n": 1130.0, "accuracy": 0.503, "brier": 0.2499}},
                    "baselines": {"drift": {"n": 1130.0, "accuracy": 0.5, "brier": 0.2500}},
                    "consensus": {"n": 1130.0, "accuracy": 0.5, "brier": 0.25, "abstained": 1.0},
                    "config": {"horizon": 1, "n_splits": 5, "min_train": 500},
                }
            ]
        }
    )

    bars: int
    tested_bars: int
    horizon: int
    folds: int
    models: dict[str, dict[str, float | None]]
    baselines: dict[str, dict[str, float | None]]
    consensus: dict[str, float | None]
    config: dict[str, Any]
