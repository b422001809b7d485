"""Shapes of the sentiment, insider and options endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.common import StrictModel
from quantumtrade.ml.sentiment import MAX_TEXT_CHARS
from quantumtrade.services.sentiment import MAX_ANALYZE_TEXTS

Label = Literal["positive", "negative", "neutral"]
Status = Literal["ok", "unavailable"]


class Cue(BaseModel):
    text: str = Field(description="The words or emoji that moved the score.", examples=["beats"])
    source: Literal["idiom", "lm", "vader", "emoji"] = Field(
        description="Which reader found it: a finance idiom, the Loughran-McDonald lexicon, "
        "VADER, or an emoji."
    )
    weight: float = Field(description="Its signed contribution to the raw score.")


class TextSentiment(BaseModel):
    score: float = Field(ge=-1, le=1, description="-1 very negative to 1 very positive.")
    label: Label
    confidence: float = Field(
        ge=0, le=1, description="Estimated probability that the label is right (calibrated)."
    )
    cues: list[Cue]


class AnalyzeRequest(StrictModel):
    """Up to 1,000 texts of at most 5,000 characters each."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "texts": [
                        "Acme beats estimates and raises full-year guidance",
                        "$ACME bagholders again 📉 great call guys /s",
                    ]
                }
            ]
        }
    )

    texts: list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(
        min_length=1, max_length=MAX_ANALYZE_TEXTS
    )


class AnalyzeResponse(BaseModel):
    results: list[TextSentiment] = Field(description="One result per text, in input order.")


class NewsItemOut(BaseModel):
    id: str = Field(examples=["sim-n-3f2a9c1b7d4e"])
    headline: str = Field(examples=["Acme beats third-quarter estimates, lifts outlook"])
    summary: str
    author: str
    source: str
    url: str | None
    symbols: list[str]
    created_at: str = Field(examples=["2026-12-03T21:30:00+00:00"])
    sentiment: TextSentiment


class SocialPostOut(BaseModel):
    id: str
    text: str = Field(examples=["$ACME calls printing 🚀🚀"])
    author: str
    followers: int
    platform: str
    symbols: list[str]
    created_at: str
    likes: int
    reposts: int
    sentiment: TextSentiment


class NewsList(BaseModel):
    symbol: str = Field(examples=["AAPL"])
    source: str = Field(description="The information source.", examples=["simulator"])
    items: list[NewsItemOut] = Field(description="Newest first.")


class SocialList(BaseModel):
    symbol: str
    source: str
    items: list[SocialPostOut] = Field(description="Newest first.")


class ToneComponent(BaseModel):
    status: Status
    score: float | None = Field(
        default=None, description="Time-decayed tone (12-hour half-life), -1 to 1."
    )
    label: Label | None = None
    items: int | None = Field(default=None, description="Items in the lookback window.")
    count_24h: int | None = Field(default=None, description="Items of the last 24 hours.")
    baseline: float | None = Field(
        default=None, description="The symbol's usual tone (30-day half-life)."
    )
    change: float | None = Field(default=None, description="score - baseline.")
    weight: float | None = Field(default=None, description="Decayed evidence behind the score.")


class RoleFlow(BaseModel):
    buys: int
    sells: int
    net_shares: float
    net_value: float


class InsiderSummary(BaseModel):
    score: float = Field(
        description="(buyers - sellers) / (buyers + sellers); 1 on a cluster buy; -1 to 1."
    )
    window_days: int = Field(examples=[90])
    trades: int = Field(description="Open-market purchases and sales filed in the window.")
    purchases: int = Field(description="Open-market purchases (code P).")
    discretionary_sales: int = Field(description="Sales (S) not under a Rule 10b5-1 plan.")
    planned_sales: int = Field(description="Sales under a Rule 10b5-1 plan (not counted).")
    buyers: int
    sellers: int
    net_shares: float
    net_value: float = Field(description="Purchases minus discretionary sales, in dollars.")
    cluster_buy: bool = Field(description="Three or more insiders bought within 10 days.")
    cluster_buyers: list[str]
    by_role: dict[str, RoleFlow] = Field(
        description="Flows of officers, directors, 10% owners and others."
    )


class InsiderComponent(InsiderSummary):
    status: Status


class UnusualTrade(BaseModel):
    symbol: str = Field(examples=["AAPL260116C00200000"])
    kind: Literal["call", "put"]
    expiry: str
    strike: float
    time: str
    size: int
    price: float
    premium: float = Field(description="price x size x 100.")
    side: Literal["buy", "sell"]
    sweep: bool
    volume: int = Field(description="The contract's volume in the window.")
    open_interest: int


class OptionsFlow(BaseModel):
    score: float = Field(description="Lean of unusual premium and put/call volume, -1 to 1.")
    put_call_volume: float | None
    put_call_open_interest: float | None
    call_volume: int
    put_volume: int
    iv: float | None = Field(description="30-day at-the-money implied volatility.")
    iv_rank: float | None = Field(description="(iv - 1y low) / (1y high - 1y low), 0 to 1.")
    iv_percentile: float | None = Field(description="Share of the last year's days below now.")
    skew_25d: float | None = Field(description="25-delta put IV minus 25-delta call IV.")
    skew_expiry: str | None
    unusual_count: int
    unusual_call_premium: float
    unusual_put_premium: float
    unusual: list[UnusualTrade] = Field(description="Largest premium first.")


class OptionsComponent(OptionsFlow):
    status: Status


class Unavailable(BaseModel):
    status: Literal["unavailable"]
    score: None = None


class Components(BaseModel):
    news: ToneComponent
    social: ToneComponent
    insider: InsiderComponent | Unavailable
    options: OptionsComponent | Unavailable


class SymbolSentiment(BaseModel):
    symbol: str = Field(examples=["AAPL"])
    as_of: str
    score: float = Field(description="Weighted mean of the available components, -1 to 1.")
    label: Label
    components: Components
    weights: dict[str, float] = Field(
        description="The weight each available component had.",
        examples=[{"news": 0.35, "social": 0.15, "insider": 0.25, "options": 0.25}],
    )
    sources: list[str] = Field(examples=[["simulator"]])


class SymbolOptionsFlow(OptionsFlow):
    symbol: str
    source: str
    spot: float


class InsiderFilingOwner(BaseModel):
    cik: str
    name: str
    is_director: bool
    is_officer: bool
    is_ten_percent_owner: bool
    officer_title: str | None


class InsiderTransaction(BaseModel):
    security: str | None
    date: str | None
    code: str = Field(description="P purchase, S sale, A award, M exercise, F tax, G gift...")
    shares: float | None
    price: float | None
    acquired: bool
    shares_after: float | None
    ownership: str | None = Field(description="D direct, I indirect.")
    footnotes: list[str]


class InsiderFiling(BaseModel):
    accession_number: str
    filed_at: str
    document_type: Literal["4", "4/A"]
    period_of_report: str
    owners: list[InsiderFilingOwner]
    transactions: list[InsiderTransaction]
    derivative_transactions: int


class InsiderActivity(BaseModel):
    symbol: str
    source: str
    summary: InsiderSummary
    filings: list[InsiderFiling] = Field(description="Newest first.")


class OptionContract(BaseModel):
    symbol: str = Field(examples=["AAPL260116C00200000"])
    expiry: str
    kind: Literal["call", "put"]
    strike: float
    bid: float
    ask: float
    mark: float
    iv: float
    delta: float
    gamma: float
    vega: float
    theta: float
    volume: int
    open_interest: int


class OptionChain(BaseModel):
    symbol: str
    source: str
    spot: float
    as_of: str
    expiries: list[str]
    contracts: list[OptionContract]


class FearGreedComponent(BaseModel):
    name: Literal[
        "breadth", "put_call", "implied_volatility", "news_tone", "social_tone", "insider_ratio"
    ]
    value: float = Field(description="The component's figure today.")
    score: float | None = Field(description="0 (fear) to 100 (greed) against its own history.")
    history: int = Field(description="Days it was ranked against.")


class MarketSentiment(BaseModel):
    index: float | None = Field(description="0 extreme fear to 100 extreme greed.", examples=[62])
    label: Literal["extreme fear", "fear", "neutral", "greed", "extreme greed"] | None
    as_of: str
    components: list[FearGreedComponent]
    unavailable: list[str] = Field(description="Components the configured source lacks.")
    history_days: int
