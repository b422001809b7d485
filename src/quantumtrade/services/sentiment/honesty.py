"""Does a sentiment signal predict anything? Its information coefficient on the simulated world.

The simulator plants events (:mod:`quantumtrade.marketdata.simulator.events`): their news,
posts, insider trades and option sweeps come from the event, and the price jumps by the
event's hidden impact. On *control* symbols the same kinds of items appear with no link to the
price. So an honest signal must show an IC on planted symbols and none on controls; and since
the truth is known, the IC the signal *should* reach (the *oracle*: the same measurement with
the hidden true tone in place of the signal) is known too.

Measurements (IC: Spearman rank correlation with a 95 % interval, see
:func:`~quantumtrade.ml.sentiment.aggregate.information_coefficient`):

- **news reaction** (:func:`news_reaction`): each story naming one symbol, scored by the text
  scorer, against the log return from the last close before the story to the first close
  after it: the reaction the story explains. The oracle uses the story's true tone.
- **social lead** (:func:`social_lead`): posts, measured as the news is, with their true
  tone as the oracle; **options lead** (:func:`options_lead`): the call-versus-put lean of
  a session's bought sweeps against the next :data:`SWEEP_HORIZON` sessions.
- **insider lead** (:func:`insider_lead`): each open-market trade filed (+1 a purchase, -1 a
  discretionary sale) against the log return from the close of the filing's session to the
  close :data:`INSIDER_HORIZON` sessions later: what a trader reading EDGAR could earn.

Stories and trades of planted symbols and of controls are measured apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from quantumtrade.marketdata.sec.trades import insider_trades
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.marketdata.simulator.events import is_control
from quantumtrade.ml.sentiment import SentimentResult, score_texts
from quantumtrade.ml.sentiment.aggregate import InformationCoefficient, information_coefficient
from quantumtrade.services.sentiment._views import company_names, news_text, post_text

INSIDER_HORIZON = 15  # sessions: the leak comes 2 to 15 sessions before the announcement


@dataclass(frozen=True, slots=True)
class GroupIC:
    """The IC of a signal on one group of symbols, with the oracle's beside it."""

    signal: str
    group: str  # "planted" or "control"
    symbols: tuple[str, ...]
    measured: InformationCoefficient
    oracle: InformationCoefficient | None

    @property
    def recovers_oracle(self) -> bool:
        """The oracle's IC lies within the measured IC's 95 % interval."""
        return self.oracle is not None and self.measured.low <= self.oracle.ic <= self.measured.high


def signal_of(result: SentimentResult) -> float:
    """A text's signal: its score, or 0 when the scorer calls it neutral (no view is no view)."""
    return 0.0 if result.label == "neutral" else result.score


def split_symbols(market: SimulatedMarket, symbols: Sequence[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"planted": [], "control": []}
    for symbol in symbols:
        groups["control" if is_control(market.seed, symbol) else "planted"].append(symbol)
    return groups


@dataclass(frozen=True, slots=True)
class _Path:
    """A symbol's sessions: open and close times (UTC ns) and log prices net of the market."""

    open_ns: np.ndarray
    close_ns: np.ndarray
    open: np.ndarray
    close: np.ndarray


def _residual_paths(
    market: SimulatedMarket, symbols: Sequence[str], start: datetime, end: datetime
) -> dict[str, _Path]:
    """Each symbol's session opens and closes, as log prices net of the market.

    The market's move is the equal-weighted mean of ``symbols``' opening gaps and of their
    open-to-close returns; taking it out leaves the idiosyncratic moves the information world
    is about, and makes reactions of different symbols on the same day independent.
    """
    lo, hi = start - timedelta(days=10), end + timedelta(days=40)
    gaps, bodies, times = {}, {}, {}
    for symbol in symbols:
        bars = market.bars(symbol, "1Day", lo, hi)
        day = pd.DatetimeIndex(bars.index).tz_convert(None).normalize()
        log_open = np.log(bars["open"].to_numpy())
        log_close = np.log(bars["close"].to_numpy())
        gaps[symbol] = pd.Series(log_open - np.concatenate([[log_open[0]], log_close[:-1]]), day)
        bodies[symbol] = pd.Series(log_close - log_open, day)
        sessions = market.sessions(symbol, lo.date(), hi.date())
        sessions.index = pd.DatetimeIndex(sessions.index).normalize()
        times[symbol] = sessions.reindex(day)
    gap, body = pd.DataFrame(gaps), pd.DataFrame(bodies)
    gap_x, body_x = gap.sub(gap.mean(axis=1), axis=0), body.sub(body.mean(axis=1), axis=0)
    out = {}
    for symbol in symbols:
        g, b = gap_x[symbol].dropna().to_numpy(), body_x[symbol].dropna().to_numpy()
        opened = np.cumsum(g) + np.concatenate([[0.0], np.cumsum(b)[:-1]])
        sessions = times[symbol]
        out[symbol] = _Path(
            open_ns=pd.DatetimeIndex(sessions["open"]).asi8,
            close_ns=pd.DatetimeIndex(sessions["close"]).asi8,
            open=opened,
            close=opened + b,
        )
    return out


# A story this soon after the open is priced from the open; later ones from the next close.
OPEN_GRACE_NS = 5 * 60 * 10**9


def _reaction(
    path: _Path, at: Sequence[datetime], horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Return (window key, log move) of the reaction to items published at ``at``.

    The window starts at the last price a trader could have had when the item came out: the
    previous close for an item published outside the session, the open for one published
    within :data:`OPEN_GRACE_NS` of it, and the session's close for one published later in the
    session (its own session's move may already be in its words). It ends ``horizon`` closes
    later. The key, the window's starting session, groups items sharing one window.
    """
    stamps = np.array([pd.Timestamp(t).value for t in at], dtype=np.int64)
    last_open = np.searchsorted(path.open_ns, stamps, side="right") - 1
    in_session = (last_open >= 0) & (stamps < path.close_ns[np.maximum(last_open, 0)])
    near_open = in_session & (stamps - path.open_ns[np.maximum(last_open, 0)] <= OPEN_GRACE_NS)
    # Outside the session: from the last close before the item to the next closes.
    key = np.where(in_session, last_open, np.searchsorted(path.close_ns, stamps, side="right"))
    start_price = np.full(len(stamps), np.nan)
    end_index = np.where(in_session & ~near_open, last_open + horizon, key + horizon - 1)
    n = len(path.close)
    ok = (key >= 1) & (key < n) & (end_index < n)
    k = np.clip(key, 0, n - 1)
    start_price = np.where(
        near_open,
        path.open[k],
        np.where(in_session, path.close[k], path.close[np.maximum(k - 1, 0)]),
    )
    out = np.full(len(stamps), np.nan)
    e = np.clip(end_index, 0, n - 1)
    out[ok] = path.close[e[ok]] - start_price[ok]
    key = np.where(in_session & ~near_open, key + n, key)  # a later-in-session window differs
    return key, out


def _per_window(
    keys: Sequence[tuple[str, int]], signals: Sequence[Sequence[float]], moves: Sequence[float]
) -> tuple[list[list[float]], list[float]]:
    """Average the signals of items sharing a (symbol, window): one sample per reaction."""
    grouped: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(keys):
        grouped.setdefault(key, []).append(i)
    out_signals: list[list[float]] = [[] for _ in signals]
    out_moves = []
    for rows in grouped.values():
        for column, values in zip(out_signals, signals, strict=True):
            column.append(float(np.mean([values[i] for i in rows])))
        out_moves.append(moves[rows[0]])
    return out_signals, out_moves


# One scored text of a symbol: (published at, text, true tone).
TextItem = tuple[datetime, str, float]


def _text_ic(
    name: str,
    market: SimulatedMarket,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    items_of: Callable[[str], list[TextItem]],
) -> list[GroupIC]:
    """The IC of scored texts and of their true tone against the reactions that follow them."""
    prices = _residual_paths(market, symbols, start, end)
    out = []
    for group, members in split_symbols(market, symbols).items():
        keys: list[tuple[str, int]] = []
        scores: list[float] = []
        tones: list[float] = []
        moves: list[float] = []
        for symbol in members:
            items = items_of(symbol)
            if not items:
                continue
            window, move = _reaction(prices[symbol], [at for at, _, _ in items])
            keys += [(symbol, int(w)) for w in window]
            scores += [signal_of(r) for r in score_texts([text for _, text, _ in items])]
            tones += [tone for _, _, tone in items]
            moves += list(move)
        (scores_w, tones_w), moves_w = _per_window(keys, [scores, tones], moves)
        measured = information_coefficient(scores_w, moves_w)
        oracle = information_coefficient(tones_w, moves_w)
        out.append(GroupIC(name, group, tuple(members), measured, oracle))
    return out


def news_reaction(
    market: SimulatedMarket, symbols: Sequence[str], start: datetime, end: datetime
) -> list[GroupIC]:
    """The news reaction IC of the scorer and of the true tone, on planted and control symbols.

    One sample per (symbol, reaction window): the mean signal of the stories naming only that
    symbol in it, against the symbol's move net of the market (see :func:`_reaction`).
    """
    from quantumtrade.marketdata.simulator.news import stories

    names = company_names(market.symbols())

    def items_of(symbol: str) -> list[TextItem]:
        own = [s for s in stories(market, [symbol], start, end) if s.item.symbols == (symbol,)]
        return [(s.item.created_at, news_text(s.item, names), s.truth.tone) for s in own]

    return _text_ic("news_reaction", market, symbols, start, end, items_of)


def insider_lead(
    market: SimulatedMarket, symbols: Sequence[str], start: datetime, end: datetime
) -> list[GroupIC]:
    """The IC of filed open-market trades for the next :data:`INSIDER_HORIZON` sessions.

    One sample per (symbol, filing session): the mean of +1 per purchase and -1 per
    discretionary sale filed that session, against the symbol's move net of the market over
    the following sessions.
    """
    from quantumtrade.marketdata.simulator.insider import insider_filings

    stocks = [
        s
        for s in symbols
        if not (market.universe.spec(s).is_etf or market.universe.spec(s).is_crypto)
    ]
    prices = _residual_paths(market, stocks, start, end)
    out = []
    for group, members in split_symbols(market, stocks).items():
        keys: list[tuple[str, int]] = []
        signal: list[float] = []
        moves: list[float] = []
        for symbol in members:
            filings = insider_filings(market, symbol, start, end)
            trades = [
                t
                for t in insider_trades([(f.filed, f.form) for f in filings])
                if t.code == "P" or not t.planned
            ]
            window, move = _reaction(prices[symbol], [t.filed_at for t in trades], INSIDER_HORIZON)
            keys += [(symbol, int(w)) for w in window]
            signal += [1.0 if t.code == "P" else -1.0 for t in trades]
            moves += list(move)
        (signal_w,), moves_w = _per_window(keys, [signal], moves)
        measured = information_coefficient(signal_w, moves_w)
        out.append(GroupIC("insider_lead", group, tuple(members), measured, None))
    return out


def social_lead(
    market: SimulatedMarket, symbols: Sequence[str], start: datetime, end: datetime
) -> list[GroupIC]:
    """The social IC: scored posts against the move that follows them, beside the oracle.

    Measured as the news is (one sample per symbol and reaction window, from the last price a
    trader could have had when the post came out). Informed posts lead a share of the planted
    events by up to a day, so their window holds the event; echoes come after the story,
    organic chatter, bots and pumps mean nothing.
    """
    from quantumtrade.marketdata.simulator.social import posts

    names = company_names(market.symbols())

    def items_of(symbol: str) -> list[TextItem]:
        own = [p for p in posts(market, [symbol], start, end) if p.post.symbols == (symbol,)]
        return [(p.post.created_at, post_text(p.post, names), p.truth.tone) for p in own]

    return _text_ic("social_lead", market, symbols, start, end, items_of)


SWEEP_HORIZON = 4  # sessions: sweeps come 1 to 3 sessions before the announcement


def options_lead(
    market: SimulatedMarket, symbols: Sequence[str], start: datetime, end: datetime
) -> list[GroupIC]:
    """The IC of the session's bought sweeps for the next :data:`SWEEP_HORIZON` sessions.

    One sample per (symbol, session with a sweep): (call premium - put premium) over their
    sum, against the move from that close over the following sessions.
    """
    from quantumtrade.marketdata.simulator.options import option_sweeps
    from quantumtrade.ml.sentiment.signals import parse_occ

    specs = [market.universe.spec(s) for s in symbols]
    optionable = [spec.symbol for spec in specs if not (spec.is_etf or spec.is_crypto)]
    prices = _residual_paths(market, optionable, start, end)
    out = []
    for group, members in split_symbols(market, optionable).items():
        lean: list[float] = []
        moves: list[float] = []
        for symbol in members:
            path = prices[symbol]
            n = len(path.close)
            per_day: dict[int, list[float]] = {}
            for trade in option_sweeps(market, symbol, start, end):
                if trade.side != "buy":
                    continue
                stamp = pd.Timestamp(trade.time).value
                known = int(np.searchsorted(path.close_ns, stamp, side="left"))
                premium = trade.price * trade.size * 100.0
                calls_puts = per_day.setdefault(known, [0.0, 0.0])
                calls_puts[0 if parse_occ(trade.symbol)[2] == "call" else 1] += premium
            for known, (calls, puts) in per_day.items():
                if known + SWEEP_HORIZON < n and calls + puts > 0:
                    lean.append((calls - puts) / (calls + puts))
                    moves.append(path.close[known + SWEEP_HORIZON] - path.close[known])
        measured = information_coefficient(lean, moves)
        out.append(GroupIC("options_lead", group, tuple(members), measured, None))
    return out


def describe(figure: GroupIC) -> str:
    """One line: the signal, the group, the IC with its interval, and the oracle's."""
    m = figure.measured
    line = (
        f"{figure.signal:<14} {figure.group:<8} n={m.n:<6} IC={m.ic:+.3f} "
        f"[{m.low:+.3f}, {m.high:+.3f}]"
    )
    if figure.oracle is not None:
        o = figure.oracle
        line += f"  oracle={o.ic:+.3f} [{o.low:+.3f}, {o.high:+.3f}]"
    return line if math.isfinite(m.ic) else line + " (no data)"
