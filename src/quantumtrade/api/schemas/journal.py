"""Bodies of ``/api/journal``: entries built from the ledger, and what the trader adds to them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.common import StrictModel
from quantumtrade.api.schemas.orders_out import (
    Id,
    MoneyText,
    OptionalId,
    OptionalMoneyText,
    OptionalTimestamp,
    QuantityText,
    Timestamp,
)
from quantumtrade.api.schemas.trading import Price

Emotion = Literal[
    "calm",
    "confident",
    "excited",
    "anxious",
    "fearful",
    "greedy",
    "fomo",
    "revenge",
    "bored",
    "frustrated",
]
Intensity = Annotated[int, Field(ge=1, le=5, description="1 (faint) to 5 (overwhelming).")]

_FILL: dict[str, Any] = {
    "fill_id": "5b0e7f0e-2f0c-4c43-8f0a-8f1e9c3a2d11",
    "role": "entry",
    "qty": "10",
    "price": "187.25",
    "fees": "0",
    "at": "2026-11-18T15:31:00+00:00",
}
_ENTRY: dict[str, Any] = {
    "id": "3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10",
    "portfolio_id": "8d2f4c1a-1b3e-4f5a-9c6d-7e8f9a0b1c2d",
    "key": "AAPL:5b0e7f0e-2f0c-4c43-8f0a-8f1e9c3a2d11",
    "symbol": "AAPL",
    "direction": "long",
    "status": "closed",
    "opened_at": "2026-11-18T15:31:00+00:00",
    "closed_at": "2026-11-18T19:02:00+00:00",
    "entry_qty": "10",
    "exit_qty": "10",
    "max_qty": "10",
    "entry_price": "187.25",
    "exit_price": "189.1",
    "gross_pl": "18.5",
    "fees": "0.02",
    "net_pl": "18.48",
    "return_pct": 0.00987,
    "holding_seconds": 12660.0,
    "stop_price": "185",
    "stop_source": "order",
    "r_multiple": 0.82,
    "mae": "6.3",
    "mfe": "24.1",
    "mae_pct": 0.00336,
    "mfe_pct": 0.01287,
    "strategy": None,
    "order_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "ai_decision_id": None,
    "regime": "bull",
    "fills": [_FILL],
    "notes": "Waited for the open range break.",
    "tags": ["breakout"],
    "setup": "ORB",
    "emotion_before": "calm",
    "emotion_before_intensity": 2,
    "emotion_after": "confident",
    "emotion_after_intensity": 3,
    "rating": 4,
    "planned_stop": "185",
    "planned_target": "192",
    "updated_at": "2026-11-18T20:00:00+00:00",
}


class JournalFillOut(BaseModel):
    """One fill's part in the trip (a fill through zero is split between two trips)."""

    fill_id: str = Field(description="The execution (trade) id.")
    role: Literal["entry", "exit"]
    qty: QuantityText
    price: MoneyText
    fees: MoneyText
    at: Timestamp


class JournalEntryOut(BaseModel):
    """A round trip, open to flat, built from the ledger, with the trader's own fields."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})

    id: Id
    portfolio_id: Id
    key: str = Field(description="``symbol:first fill id``: the same trip after every rebuild.")
    symbol: str
    direction: Literal["long", "short"]
    status: Literal["open", "closed", "reset"] = Field(
        description="``reset``: the portfolio was reset while the trip was open."
    )
    opened_at: Timestamp
    closed_at: OptionalTimestamp
    entry_qty: QuantityText
    exit_qty: QuantityText
    max_qty: QuantityText = Field(description="The largest size the position reached.")
    entry_price: MoneyText = Field(description="Volume-weighted average of the entries.")
    exit_price: OptionalMoneyText = Field(description="Volume-weighted average of the exits.")
    gross_pl: MoneyText
    fees: MoneyText
    net_pl: MoneyText = Field(description="Gross P&L less every fee of the trip's fills.")
    return_pct: float = Field(description="Net P&L over the money put in, as a fraction.")
    holding_seconds: float | None = Field(description="Null while the trip is open.")
    stop_price: OptionalMoneyText = Field(description="The stop the R-multiple is measured to.")
    stop_source: Literal["order", "planned"] | None = Field(
        description="``order``: a stop order in force while open; ``planned``: your planned stop."
    )
    r_multiple: float | None = Field(
        description="Net P&L over the initial risk (first entry to stop, times the entry qty)."
    )
    mae: OptionalMoneyText = Field(description="Maximum adverse excursion at the largest size.")
    mfe: OptionalMoneyText = Field(description="Maximum favourable excursion at the largest size.")
    mae_pct: float | None
    mfe_pct: float | None
    strategy: str | None = Field(description="The source of the opening order, when not you.")
    order_id: OptionalId = Field(description="The opening order.")
    ai_decision_id: OptionalId = Field(description="The AI decision that placed the opening order.")
    regime: str | None = Field(description="The daily trend regime recorded at entry, if any.")
    fills: list[JournalFillOut]
    notes: str | None
    tags: list[str]
    setup: str | None
    emotion_before: Emotion | None
    emotion_before_intensity: int | None
    emotion_after: Emotion | None
    emotion_after_intensity: int | None
    rating: int | None
    planned_stop: OptionalMoneyText
    planned_target: OptionalMoneyText
    updated_at: Timestamp


class JournalPage(BaseModel):
    """One page of entries, newest opened first, and the total count matching the filters."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_ENTRY], "total": 1, "limit": 50, "offset": 0}]}
    )

    items: list[JournalEntryOut]
    total: int = Field(ge=0)
    limit: int
    offset: int


class JournalEntryPatch(StrictModel):
    """The fields you keep on an entry. Give only those to change; null clears one.

    A planned stop must be on the loss side of the first entry price and a target on the profit
    side (422 otherwise); without a stop order in force, the planned stop is the R-multiple's.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "notes": "Chased the gap; entered late.",
                    "tags": ["gap", "fomo"],
                    "setup": "Gap and go",
                    "emotion_before": "fomo",
                    "emotion_before_intensity": 4,
                    "emotion_after": "frustrated",
                    "emotion_after_intensity": 3,
                    "rating": 2,
                    "planned_stop": "185",
                    "planned_target": "192",
                }
            ]
        },
    )

    notes: str | None = Field(default=None, max_length=10_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None, max_length=20
    )
    setup: str | None = Field(default=None, min_length=1, max_length=100)
    emotion_before: Emotion | None = None
    emotion_before_intensity: Intensity | None = None
    emotion_after: Emotion | None = None
    emotion_after_intensity: Intensity | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    planned_stop: Annotated[Price, Field(gt=0)] | None = None
    planned_target: Annotated[Price, Field(gt=0)] | None = None


class JournalRebuildOut(BaseModel):
    """How many entries the portfolio's journal holds after a rebuild from its ledger."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"entries": 12, "ledger_seq": 57}]})

    entries: int = Field(ge=0)
    ledger_seq: int = Field(ge=0, description="The last ledger line the journal covers.")


# --------------------------------------------------------------------------- review

Interval = Annotated[
    list[float] | None,
    Field(description="The interval's low and high at the stated confidence; null if too few."),
]
MoneyInterval = Annotated[
    list[str] | None,
    Field(description="The interval's low and high, dollars as decimal strings; null if too few."),
]
Figure = float | int | str | None
_IDS: Any = ["3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10"]
_STREAK: dict[str, Any] = {
    "label": "after_loss",
    "n": 21,
    "wins": 9,
    "win_rate": 0.43,
    "win_rate_ci": [0.245, 0.635],
    "avg_net_pl": "-8.10",
    "total_net_pl": "-170.10",
    "avg_size_ratio": 1.1,
    "size_ratio_gmean": 1.02,
    "size_ratio_ci": [0.9, 1.16],
    "extra_size_net_pl": "-4.00",
    "trip_ids": _IDS,
}


class MistakeOut(BaseModel):
    """A rule the trades broke, with the trades and figures that broke it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "no_stop",
                    "title": "No stop set",
                    "message": (
                        "4 trades without a stop lost $1,230.50 net (3 closed, 1 still open)"
                    ),
                    "severity": "critical",
                    "trip_ids": _IDS,
                    "figures": {"count": 4, "closed": 3, "net_pl": "-1230.50"},
                    "threshold": {},
                    "details": [],
                }
            ]
        }
    )

    code: Literal[
        "no_stop",
        "stop_moved_away",
        "oversized",
        "revenge_trade",
        "overtrading",
        "chasing",
        "winners_cut_losers_run",
        "against_regime",
        "ignored_ai",
    ]
    title: str
    message: str = Field(description="What happened, quoting the figures.")
    severity: Literal["info", "warning", "critical"] = Field(
        description=(
            "critical: the trades' net loss is at least ``critical_loss_share`` of all gross "
            "losses; warning: a smaller loss, or none closed yet; info: they made money."
        )
    )
    trip_ids: list[str] = Field(description="The journal entries involved.")
    figures: dict[str, Figure] = Field(description="The measured figures; dollars as strings.")
    threshold: dict[str, Figure] = Field(description="The thresholds the rule applied.")
    details: list[dict[str, Figure]] = Field(description="Evidence per trade or per day.")


class MistakesOut(BaseModel):
    """The mistakes found in a portfolio's journal, and the rules as applied."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "portfolio_id": "8d2f4c1a-1b3e-4f5a-9c6d-7e8f9a0b1c2d",
                    "trips": 12,
                    "rules": {"revenge_window_minutes": 30.0, "revenge_size_ratio": 1.5},
                    "mistakes": [],
                }
            ]
        }
    )

    portfolio_id: Id
    trips: int = Field(ge=0, description="The trips reviewed (opened in the window).")
    rules: dict[str, Figure]
    mistakes: list[MistakeOut]


class GroupStatsOut(BaseModel):
    """Closed trips of one group: win rate, expectancy, profit factor and average R."""

    dimension: str
    key: str
    n: int
    wins: int
    losses: int
    win_rate: float
    win_rate_ci: Interval
    expectancy: str = Field(description="Mean net P&L per trip, dollars.")
    expectancy_ci: MoneyInterval
    profit_factor: float | None = Field(
        description="Gross wins over gross losses; null: none lost."
    )
    avg_r: float | None
    avg_r_ci: Interval
    n_with_r: int = Field(description="The trips with an R-multiple (a stop was known).")
    total_net_pl: str
    measure: Literal["avg_r", "expectancy"] = Field(
        description="The figure tested: average R when enough trips have one, else expectancy."
    )
    conclusive: bool = Field(
        description=(
            "At least ``min_sample`` trips and the tested figure's interval, at the "
            "Bonferroni-adjusted ``test_confidence``, excludes zero."
        )
    )
    confidence: float
    test_confidence: float
    trip_ids: list[str]
    small_sample: bool = Field(
        description="Fewer than ``min_sample`` trips: a pattern here is not a finding."
    )


class EmotionStatsOut(BaseModel):
    emotion: str
    n: int
    losses: int
    loss_rate: float
    loss_rate_ci: Interval
    base_loss_rate: float
    avg_r: float | None
    n_with_r: int
    expectancy: str
    total_net_pl: str
    excess_net_pl: str = Field(description="Net P&L beyond what the average trip would have made.")
    conclusive: bool
    trip_ids: list[str]
    small_sample: bool = Field(description="Fewer than ``min_sample`` trips.")


class EmotionAfterOut(BaseModel):
    emotion: str
    after_wins: int
    after_losses: int
    share_after_losses: float


class EmotionReportOut(BaseModel):
    """Which emotions come before losses, and which follow wins and losses."""

    n: int
    base_loss_rate: float
    base_expectancy: str
    before: list[EmotionStatsOut]
    after: list[EmotionAfterOut]
    confidence: float
    test_confidence: float


class StreakStatsOut(BaseModel):
    label: str
    n: int
    wins: int
    win_rate: float | None
    win_rate_ci: Interval
    avg_net_pl: str | None
    total_net_pl: str
    avg_size_ratio: float | None = Field(description="Entry value over the previous trip's.")
    size_ratio_gmean: float | None
    size_ratio_ci: Interval
    extra_size_net_pl: str = Field(description="Net P&L carried by the size above the previous.")
    trip_ids: list[str]


class StreakReportOut(BaseModel):
    """How the trades after a win, a loss and two losses in a row fare."""

    n: int
    base_win_rate: float
    base_expectancy: str
    after_loss: StreakStatsOut
    after_win: StreakStatsOut
    after_losses: StreakStatsOut
    longest_win_streak: int
    longest_loss_streak: int
    sizes_up_after_loss: bool
    colder_after_losses: bool
    confidence: float
    test_confidence: float


class AnalysisOut(BaseModel):
    """Performance overall and by tag, setup, strategy, symbol, weekday, hour, holding time,
    regime, emotion and direction, with intervals and sample sizes; emotional and streak
    patterns."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "portfolio_id": "8d2f4c1a-1b3e-4f5a-9c6d-7e8f9a0b1c2d",
                    "min_sample": 10,
                    "overall": {
                        "dimension": "all",
                        "key": "all",
                        "n": 40,
                        "wins": 18,
                        "losses": 22,
                        "win_rate": 0.45,
                        "win_rate_ci": [0.308, 0.6],
                        "expectancy": "-12.40",
                        "expectancy_ci": ["-40.10", "15.30"],
                        "profit_factor": 0.82,
                        "avg_r": -0.1,
                        "avg_r_ci": [-0.4, 0.2],
                        "n_with_r": 40,
                        "total_net_pl": "-496.00",
                        "measure": "avg_r",
                        "conclusive": False,
                        "confidence": 0.95,
                        "test_confidence": 0.95,
                        "trip_ids": _IDS,
                        "small_sample": False,
                    },
                    "groups": {"tag": []},
                    "emotions": {
                        "n": 40,
                        "base_loss_rate": 0.55,
                        "base_expectancy": "-12.40",
                        "before": [],
                        "after": [],
                        "confidence": 0.95,
                        "test_confidence": 0.95,
                    },
                    "streaks": {
                        "n": 40,
                        "base_win_rate": 0.45,
                        "base_expectancy": "-12.40",
                        "after_loss": _STREAK,
                        "after_win": _STREAK | {"label": "after_win"},
                        "after_losses": _STREAK | {"label": "after_2_losses"},
                        "longest_win_streak": 4,
                        "longest_loss_streak": 5,
                        "sizes_up_after_loss": False,
                        "colder_after_losses": False,
                        "confidence": 0.95,
                        "test_confidence": 0.975,
                    },
                }
            ]
        }
    )

    portfolio_id: Id
    min_sample: int = Field(description="The fewest trips a group needs to be conclusive.")
    overall: GroupStatsOut
    groups: dict[str, list[GroupStatsOut]]
    emotions: EmotionReportOut
    streaks: StreakReportOut


class EvidenceOut(BaseModel):
    dimension: str = Field(description="tag, setup, …, emotion, streak or mistake.")
    key: str
    n: int
    figure: str = Field(description="avg_r, expectancy, net_pl, loss_rate, win_rate, size_ratio.")
    unit: Literal["R", "USD", "fraction", "ratio", "number"]
    value: float | str = Field(description="The figure; dollars as a decimal string.")
    interval: list[float] | list[str] | None
    trip_ids: list[str]


class RecommendationOut(BaseModel):
    kind: Literal["avoid", "focus", "fix", "pause"]
    code: str
    message: str = Field(description="The advice, quoting your own figures.")
    score: float = Field(description="The dollars at stake; higher ranks first.")
    evidence: EvidenceOut


class RecommendationsOut(BaseModel):
    """Advice derived from your own measured figures, strongest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "portfolio_id": "8d2f4c1a-1b3e-4f5a-9c6d-7e8f9a0b1c2d",
                    "trips": 120,
                    "closed_trips": 118,
                    "recommendations": [
                        {
                            "kind": "avoid",
                            "code": "avoid_tag",
                            "message": (
                                "Your trades tagged fomo lose 0.60R on average over 30 trades "
                                "(95% interval -0.85R to -0.35R), $-1,800.00 net: cut them or "
                                "trade them smaller."
                            ),
                            "score": 1800.0,
                            "evidence": {
                                "dimension": "tag",
                                "key": "fomo",
                                "n": 30,
                                "figure": "avg_r",
                                "unit": "R",
                                "value": -0.6,
                                "interval": [-0.85, -0.35],
                                "trip_ids": _IDS,
                            },
                        }
                    ],
                }
            ]
        }
    )

    portfolio_id: Id
    trips: int
    closed_trips: int
    recommendations: list[RecommendationOut]
