"""Simulated social media: noisy posts about symbols, a few of which lead the price.

Posts are :class:`~quantumtrade.domain.news.SocialPost` values; what each one really is stays
apart in a :class:`PostTruth` (:func:`social_truth`), which a model must never read. Five kinds:

- **organic** chatter, per symbol and day, at ``ORGANIC_AT_REFERENCE * sqrt(dollar volume /
  REFERENCE_DOLLAR_VOLUME)`` posts a day, clipped to :data:`ORGANIC_PER_DAY` (average dollar
  volume from the symbol's spec; weekends carry :data:`WEEKEND_ACTIVITY` of it for stocks).
  Intents mix as :data:`ORGANIC_MIX`: bullish, bearish, neutral and sarcastic posts, whose words
  read positive while the true tone is negative ("love losing money 🙃"). Organic tone is noise:
  it is drawn with no regard to the price.
- **informed** posts: for :data:`LEAD_PROBABILITY` of the planted events of a symbol that is not
  a control, :data:`INFORMED_POSTS` posts with the event's sign, spread uniformly over the
  :data:`LEAD_HOURS` hours before the announcement. These lead the price. Control symbols get
  informed-looking bursts at the same average rate with a random sign on random days.
- **echo** posts: after every story of the symbol (:mod:`.news`), a Poisson burst of
  ``ECHO_BASE + ECHO_PER_TONE * |tone|`` posts within :data:`ECHO_HOURS` hours, with the
  story's sign (untoned stories get neutral echoes). They lag the news.
- **bot** spam: :data:`BOTS_PER_SYMBOL` accounts per symbol with at most
  :data:`BOT_MAX_FOLLOWERS` followers, posting :data:`BOT_POSTS_PER_DAY` times a day between
  them; one account repeats one promo text all day, naming the symbol, a sector peer and
  made-up penny tickers as cashtags.
- **pump** campaigns: :data:`PUMPS_PER_YEAR_SMALL` a year for a stock or crypto asset with an
  average dollar volume under :data:`SMALL_DOLLAR_VOLUME` (:data:`PUMPS_PER_YEAR_LARGE`
  otherwise), each a burst of :data:`PUMP_POSTS` euphoric posts over
  :data:`PUMP_HOURS` hours from new accounts with at most :data:`PUMP_MAX_FOLLOWERS` followers.
  No planted impact follows.

Texts carry cashtags (``$AAPL``, share :data:`CASHTAG_SHARE`) or bare tickers, slang, emojis,
upper-case shouting (:data:`CAPS_SHARE`) and typos (:data:`TYPO_SHARE`). A post names the
symbols in its ``symbols``: its own and, in neutral comparisons and bot spam, sector peers.
Organic, informed and echo posts come from one shared pool of :data:`AUTHOR_POOL` accounts
(the first ones post most, with stable follower counts from 10 to about 40,000), so a model
cannot tell an informed post by its author; stock chatter follows :data:`SOCIAL_HOURS` (UTC).
:func:`posts` can draw only some ``kinds``, which gives the same posts of those kinds for less
work.

Everything is drawn per (source, symbol, day) with :func:`.events.event_rng` and a tag per kind,
per planted event or per story, so any range gives exactly the posts of a longer range that
fall in it, with the same ids (``sim-p-`` and a hash). Nothing reads a clock: a caller serving
"now" cuts ``end`` at it.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

from quantumtrade.domain.news import SocialPost
from quantumtrade.marketdata.simulator import phrases as ph
from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    MINUTE_NS,
    N_DAYS,
    ORIGIN_NS,
    from_ns,
    ordinal_of,
    to_ns,
)
from quantumtrade.marketdata.simulator.engine import Engine
from quantumtrade.marketdata.simulator.events import (
    PlantedEvent,
    event_rng,
    is_control,
    planted_events,
)
from quantumtrade.marketdata.simulator.model import (
    CRYPTO_JUMPS_PER_YEAR,
    EARNINGS_PER_YEAR,
    stable_key,
)
from quantumtrade.marketdata.simulator.news import stories
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.simulator.universe import SymbolSpec

FloatArray = npt.NDArray[np.float64]
PostKind = Literal["organic", "informed", "echo", "bot", "pump"]
POST_KINDS: tuple[PostKind, ...] = ("organic", "informed", "echo", "bot", "pump")

ORGANIC_TAG = 0x5EED_6001
INFORMED_TAG = 0x5EED_6002
DECOY_TAG = 0x5EED_6003
ECHO_TAG = 0x5EED_6004
BOT_TAG = 0x5EED_6005
PUMP_TAG = 0x5EED_6006

ORGANIC_AT_REFERENCE = 40.0
REFERENCE_DOLLAR_VOLUME = 1e10
ORGANIC_PER_DAY = (3.0, 60.0)
WEEKEND_ACTIVITY = 0.5
ORGANIC_MIX = (("bull", 0.38), ("bear", 0.27), ("neutral", 0.25), ("sarcasm", 0.10))
LEAD_PROBABILITY = 0.3
LEAD_HOURS = 24.0
INFORMED_POSTS = (2, 5)
ECHO_HOURS = 6.0
ECHO_BASE = 2.0
ECHO_PER_TONE = 10.0
BOTS_PER_SYMBOL = 3
BOT_POSTS_PER_DAY = 3.0
BOT_MAX_FOLLOWERS = 50
PUMPS_PER_YEAR_SMALL = 3.0
PUMPS_PER_YEAR_LARGE = 0.25
SMALL_DOLLAR_VOLUME = 2e9
PUMP_POSTS = (20, 60)
PUMP_HOURS = (24.0, 48.0)
PUMP_MAX_FOLLOWERS = 150
CASHTAG_SHARE = 0.7
CAPS_SHARE = 0.06
TYPO_SHARE = 0.10
AUTHOR_POOL = 3000
# Relative posting activity per UTC hour for stocks (US daytime and evening); crypto is flat.
SOCIAL_HOURS = np.array(
    [4, 3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 9, 10, 9, 8, 8, 8, 9, 9, 8, 7, 5], np.float64
)
SOCIAL_HOURS /= SOCIAL_HOURS.sum()
_UNIFORMS = 12


@dataclass(frozen=True, slots=True)
class PostTruth:
    """What a post really is; hidden from models.

    ``tone`` in [-1, 1] is what the author means (a sarcastic post that reads positive has a
    negative tone). ``event`` is the planted event the post is about: before its announcement
    for an informed post (it leads the price), after it for an echo of the event's story.
    """

    kind: PostKind
    tone: float
    event: PlantedEvent | None


@dataclass(frozen=True, slots=True)
class Post:
    post: SocialPost
    truth: PostTruth
    created_ns: int


def social_posts(
    source: SimulatedMarket | Engine,
    symbols: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> list[SocialPost]:
    """Return the posts created in ``[start, end)``, oldest first.

    ``symbols=None`` returns every symbol's posts; with symbols, the posts that name at least
    one of them.
    """
    return [p.post for p in posts(source, symbols, start, end)]


def social_truth(
    source: SimulatedMarket | Engine,
    start: datetime,
    end: datetime,
    *,
    symbols: Sequence[str] | None = None,
) -> dict[str, PostTruth]:
    """Return the hidden truth of every post created in ``[start, end)``, keyed by post id."""
    return {p.post.id: p.truth for p in posts(source, symbols, start, end)}


def posts(
    source: SimulatedMarket | Engine,
    symbols: Sequence[str] | None,
    start: datetime,
    end: datetime,
    *,
    kinds: Collection[PostKind] = POST_KINDS,
) -> list[Post]:
    """Return the posts of :func:`social_posts` with their truth, oldest first.

    ``kinds`` keeps only those kinds of post, and skips the work of drawing the others (each
    kind is drawn on its own, so the posts kept are the same either way).
    """
    engine = source.engine if isinstance(source, SimulatedMarket) else source
    lo_ns, hi_ns = max(to_ns(start), ORIGIN_NS), to_ns(end)
    if hi_ns <= lo_ns:
        return []
    universe = engine.universe
    if symbols is None:
        owners, wanted = list(universe.specs), None
    else:
        asked = [universe.spec(s) for s in symbols]
        wanted = {s.symbol for s in asked}
        # Peers' posts may name an asked symbol too (comparisons, bot spam).
        sectors = {s.sector for s in asked if s.sector is not None}
        owners = [s for s in universe.specs if s.symbol in wanted or s.sector in sectors]
    out: list[Post] = []
    for spec in owners:
        mine = _Author(engine, spec).posts(lo_ns, hi_ns, frozenset(kinds))
        out += mine if wanted is None else [p for p in mine if wanted.intersection(p.post.symbols)]
    out.sort(key=lambda p: (p.created_ns, p.post.id))
    return out


def organic_rate(spec: SymbolSpec) -> float:
    """Return the symbol's organic posts per weekday (see the module docs)."""
    dollars = spec.avg_volume * spec.price
    low, high = ORGANIC_PER_DAY
    return float(
        np.clip(ORGANIC_AT_REFERENCE * math.sqrt(dollars / REFERENCE_DOLLAR_VOLUME), low, high)
    )


def pumps_per_year(spec: SymbolSpec) -> float:
    """Return how many pump campaigns a year target the symbol."""
    if spec.is_etf:
        return 0.0
    small = spec.avg_volume * spec.price < SMALL_DOLLAR_VOLUME
    return PUMPS_PER_YEAR_SMALL if small else PUMPS_PER_YEAR_LARGE


@functools.cache
def handle(k: int) -> tuple[str, int]:
    """Return the handle and follower count of account ``k`` of the shared author pool."""
    h = stable_key(f"author:{k}")
    name = ph.HANDLE_ADJ[h % len(ph.HANDLE_ADJ)] + ph.HANDLE_NOUN[(h >> 5) % len(ph.HANDLE_NOUN)]
    followers = int(10 ** (1.0 + 3.6 * ((h >> 10) % 10_000) / 10_000))
    return f"{name}{(h >> 3) % 1000}", followers


class _Author:
    """Writes one symbol's posts."""

    def __init__(self, engine: Engine, spec: SymbolSpec) -> None:
        self.engine, self.spec = engine, spec
        self.seed = engine.seed
        self.symbol = spec.symbol
        self.tick = ph.ticker(spec.symbol)
        self.control = is_control(engine.seed, spec.symbol)
        self.peers = tuple(
            s.symbol
            for s in engine.universe.specs
            if s.sector is not None and s.sector == spec.sector and s.symbol != spec.symbol
        )
        self.rate = organic_rate(spec)

    def posts(self, lo_ns: int, hi_ns: int, kinds: frozenset[str]) -> list[Post]:
        lo_day = max(ordinal_of(lo_ns), 0)
        hi_day = min(ordinal_of(hi_ns - 1) + 1, N_DAYS)
        out: list[Post] = []
        for day in range(lo_day, hi_day):
            if "organic" in kinds:
                out += self.organic(day)
            if "bot" in kinds:
                out += self.bots(day)
        pump_days = math.ceil(PUMP_HOURS[1] / 24.0)
        for day in range(max(lo_day - pump_days, 0), hi_day if "pump" in kinds else 0):
            out += self.pump(day)
        informed = "informed" in kinds and not self.spec.is_etf
        if informed and not self.control:
            lead = int(LEAD_HOURS * 3600e9)
            events = planted_events(
                self.engine.model,
                self.engine.calendar,
                self.symbol,
                from_ns(lo_ns),
                from_ns(min(hi_ns + lead, ORIGIN_NS + N_DAYS * DAY_NS)),
            )
            for event in events:
                out += self.informed(event)
        elif informed:
            lead_days = math.ceil(LEAD_HOURS / 24.0)
            for day in range(lo_day, min(hi_day + lead_days, N_DAYS)):
                out += self.decoy(day)
        if "echo" in kinds and not self.spec.is_etf:
            echo = int(ECHO_HOURS * 3600e9)
            begin = from_ns(max(lo_ns - echo, ORIGIN_NS))
            for story in stories(self.engine, [self.symbol], begin, from_ns(hi_ns)):
                if story.item.symbols == (self.symbol,):
                    out += self.echo(
                        story.item.id, story.created_ns, story.truth.tone, story.truth.event
                    )
        return [p for p in out if lo_ns <= p.created_ns < hi_ns]

    # -- kinds -----------------------------------------------------------------------------------

    def organic(self, day: int) -> list[Post]:
        rng = event_rng(self.seed, ORGANIC_TAG, self.symbol, day)
        weekend = day % 7 >= 5 and not self.spec.is_crypto
        n = int(rng.poisson(self.rate * (WEEKEND_ACTIVITY if weekend else 1.0)))
        if n == 0:
            return []
        times = self.times(rng, day, n)
        weights = np.cumsum([w for _, w in ORGANIC_MIX])
        intents = np.searchsorted(weights / weights[-1], rng.random(n))
        strength = 0.3 + 0.6 * rng.random(n)
        authors = (AUTHOR_POOL * rng.random(n) ** 2).astype(np.int64)
        u = rng.random((n, _UNIFORMS))
        out = []
        for j in range(n):
            intent = ORGANIC_MIX[int(intents[j])][0]
            tone = {"bull": 1.0, "bear": -1.0, "neutral": 0.0, "sarcasm": -0.8}[intent]
            emojis = {"bull": ph.EMOJIS_UP, "bear": ph.EMOJIS_DOWN}.get(intent, ph.EMOJIS_FLAT)
            text, named = self.text(ph.POSTS[intent], emojis, u[j])
            truth = PostTruth("organic", tone * float(strength[j]), None)
            name, followers = handle(int(authors[j]))
            out.append(
                self.make(
                    ("organic", day, j), int(times[j]), text, name, followers, named, truth, u[j]
                )
            )
        return out

    def informed(self, event: PlantedEvent) -> list[Post]:
        rng = event_rng(self.seed, INFORMED_TAG, self.symbol, event.session)
        if rng.random() >= LEAD_PROBABILITY:
            return []
        sign = 1 if event.impact > 0 else -1
        return self.burst(rng, ("informed", event.session), event.announced_ns, sign, event)

    def decoy(self, day: int) -> list[Post]:
        """Return a control symbol's informed-looking burst anchored on day ``day``."""
        if not self.spec.is_crypto and day % 7 >= 5:
            return []
        rng = event_rng(self.seed, DECOY_TAG, self.symbol, day)
        per_day = (
            CRYPTO_JUMPS_PER_YEAR / 365.25 if self.spec.is_crypto else EARNINGS_PER_YEAR / 260.9
        )
        if rng.random() >= per_day * LEAD_PROBABILITY:
            return []
        anchor = ORIGIN_NS + day * DAY_NS + int(rng.random() * DAY_NS)
        sign = 1 if rng.random() < 0.5 else -1
        return self.burst(rng, ("decoy", day), anchor, sign, None)

    def burst(
        self,
        rng: np.random.Generator,
        key: tuple[object, ...],
        anchor_ns: int,
        sign: int,
        event: PlantedEvent | None,
    ) -> list[Post]:
        low, high = INFORMED_POSTS
        n = int(rng.integers(low, high + 1))
        lead = (rng.random(n) * LEAD_HOURS * 3600e9).astype(np.int64)
        authors = (AUTHOR_POOL * rng.random(n) ** 2).astype(np.int64)
        u = rng.random((n, _UNIFORMS))
        templates = ph.POSTS["informed_up" if sign > 0 else "informed_down"]
        emojis = ph.EMOJIS_UP if sign > 0 else ph.EMOJIS_DOWN
        out = []
        for j in range(n):
            text, named = self.text(templates, emojis, u[j])
            truth = PostTruth("informed", sign * (0.5 + 0.4 * float(u[j, 9])), event)
            name, followers = handle(int(authors[j]))
            created = max(anchor_ns - int(lead[j]) - 1, ORIGIN_NS)
            out.append(self.make((*key, j), created, text, name, followers, named, truth, u[j]))
        return out

    def echo(
        self, story_id: str, created_ns: int, tone: float, event: PlantedEvent | None
    ) -> list[Post]:
        rng = event_rng(self.seed, ECHO_TAG, self.symbol, stable_key(story_id))
        n = int(rng.poisson(ECHO_BASE + ECHO_PER_TONE * abs(tone)))
        if n == 0:
            return []
        # Most echoes come soon after the story.
        window = ECHO_HOURS * 3600e9 - MINUTE_NS
        delay = (rng.random(n) ** 2 * window).astype(np.int64) + MINUTE_NS
        authors = (AUTHOR_POOL * rng.random(n) ** 2).astype(np.int64)
        u = rng.random((n, _UNIFORMS))
        sign = 0 if abs(tone) < 0.05 else 1 if tone > 0 else -1
        templates = ph.POSTS[{1: "echo_up", -1: "echo_down", 0: "echo_flat"}[sign]]
        emojis = {1: ph.EMOJIS_UP, -1: ph.EMOJIS_DOWN, 0: ph.EMOJIS_FLAT}[sign]
        out = []
        for j in range(n):
            text, named = self.text(templates, emojis, u[j])
            truth = PostTruth("echo", tone * (0.6 + 0.4 * float(u[j, 9])), event)
            name, followers = handle(int(authors[j]))
            out.append(
                self.make(
                    ("echo", story_id, j),
                    created_ns + int(delay[j]),
                    text,
                    name,
                    followers,
                    named,
                    truth,
                    u[j],
                )
            )
        return out

    def bots(self, day: int) -> list[Post]:
        rng = event_rng(self.seed, BOT_TAG, self.symbol, day)
        counts = rng.poisson(BOT_POSTS_PER_DAY / BOTS_PER_SYMBOL, BOTS_PER_SYMBOL)
        out: list[Post] = []
        for b in range(BOTS_PER_SYMBOL):
            n = int(counts[b])
            if n == 0:
                continue
            h = stable_key(f"bot:{self.symbol}:{b}")
            name = f"{ph.BOT_HANDLES[h % len(ph.BOT_HANDLES)]}{h % 10_000:04d}"
            followers = (h >> 8) % (BOT_MAX_FOLLOWERS + 1)
            template = ph.POSTS["bot"][(h >> 4) % len(ph.POSTS["bot"])]
            peers = [self.peers[int(k)] for k in rng.permutation(len(self.peers))[:1]]
            fakes = rng.choice(len(ph.FAKE_TICKERS), int(rng.integers(2, 4)), replace=False)
            tags = [self.tick, *(ph.ticker(p) for p in peers)]
            tags += [ph.FAKE_TICKERS[int(k)] for k in fakes]
            text = template.format(tags=" ".join("$" + t for t in tags))
            times = self.times(rng, day, n)
            u = rng.random((n, _UNIFORMS))
            truth = PostTruth("bot", 0.5, None)
            for j in range(n):
                out.append(
                    self.make(
                        ("bot", day, b, j),
                        int(times[j]),
                        text,
                        name,
                        followers,
                        (self.symbol, *peers),
                        truth,
                        u[j],
                        bot=True,
                    )
                )
        return out

    def pump(self, day: int) -> list[Post]:
        rate = pumps_per_year(self.spec)
        if rate == 0.0:
            return []
        rng = event_rng(self.seed, PUMP_TAG, self.symbol, day)
        if rng.random() >= rate / 365.25:
            return []
        low, high = PUMP_POSTS
        n = int(rng.integers(low, high + 1))
        hours = PUMP_HOURS[0] + rng.random() * (PUMP_HOURS[1] - PUMP_HOURS[0])
        start = ORIGIN_NS + day * DAY_NS + int((12 + 8 * rng.random()) * 3600e9)
        times = np.sort(start + (rng.random(n) * hours * 3600e9).astype(np.int64))
        u = rng.random((n, _UNIFORMS))
        out = []
        for j in range(n):
            text, named = self.text(ph.POSTS["pump"], ph.EMOJIS_UP, u[j], cashtag=True)
            k = int(u[j, 10] * len(ph.PUMP_HANDLES))
            name = f"{ph.PUMP_HANDLES[k]}{int(u[j, 11] * 90_000) + 10_000}"
            followers = int(u[j, 9] * (PUMP_MAX_FOLLOWERS + 1))
            truth = PostTruth("pump", 0.9, None)
            out.append(
                self.make(
                    ("pump", day, j), int(times[j]), text, name, followers, named, truth, u[j]
                )
            )
        return out

    # -- writing ---------------------------------------------------------------------------------

    def times(self, rng: np.random.Generator, day: int, n: int) -> npt.NDArray[np.int64]:
        if self.spec.is_crypto:
            hours = rng.random(n) * 24.0
        else:
            hours = rng.choice(24, n, p=SOCIAL_HOURS) + rng.random(n)
        return ORIGIN_NS + day * DAY_NS + (hours * 3600e9).astype(np.int64)

    def text(
        self,
        templates: Sequence[str],
        emojis: Sequence[str],
        u: FloatArray,
        *,
        cashtag: bool = False,
    ) -> tuple[str, tuple[str, ...]]:
        """Write one post; return its text and the symbols it names."""
        v = u.tolist()
        template = templates[int(v[0] * len(templates))]
        tag = "$" + self.tick if cashtag or v[1] < CASHTAG_SHARE else self.tick
        named: tuple[str, ...] = (self.symbol,)
        other = ""
        if "{t2}" in template:
            if self.peers:
                peer = self.peers[int(v[2] * len(self.peers))]
                other, named = "$" + ph.ticker(peer), (self.symbol, peer)
            else:
                other = "$" + ph.FAKE_TICKERS[int(v[2] * len(ph.FAKE_TICKERS))]
        text = template.format(
            t=tag,
            t2=other,
            e=emojis[int(v[3] * len(emojis))],
            headline_word=ph.ECHO_WORDS[int(v[4] * len(ph.ECHO_WORDS))],
        ).strip()
        if v[5] < TYPO_SHARE:
            text = _typo(text, v[6], tag)
        if v[7] < CAPS_SHARE:
            text = text.upper()
        return text, named

    def make(
        self,
        key: tuple[object, ...],
        created_ns: int,
        text: str,
        author: str,
        followers: int,
        symbols: tuple[str, ...],
        truth: PostTruth,
        u: FloatArray,
        *,
        bot: bool = False,
    ) -> Post:
        pid = "sim-p-" + _digest(self.seed, (self.symbol, *key))
        v = u.tolist()
        mean_likes = 0.2 if bot else followers * 0.01 * (1.0 + abs(truth.tone))
        likes = _poisson(mean_likes, v[8])
        reposts = _poisson(likes * 0.15, v[10])
        post = SocialPost(
            id=pid,
            text=text,
            author=author,
            followers=followers,
            platform=ph.PLATFORMS[int(v[11] * len(ph.PLATFORMS))],
            symbols=symbols,
            created_at=from_ns(created_ns),
            likes=likes,
            reposts=reposts,
        )
        return Post(post, truth, created_ns)


def _digest(seed: int, key: Iterable[object]) -> str:
    text = ":".join(str(part) for part in (seed, *key))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _poisson(mean: float, u: float) -> int:
    """Return the Poisson quantile of ``u`` (a normal approximation above a mean of 30)."""
    if mean <= 0.0:
        return 0
    if mean > 30.0:
        return max(0, round(NormalDist(mean, math.sqrt(mean)).inv_cdf(min(max(u, 1e-9), 1 - 1e-9))))
    k, p = 0, math.exp(-mean)
    total = p
    while u > total and k < 200:
        k += 1
        p *= mean / k
        total += p
    return k


def _typo(text: str, u: float, keep: str) -> str:
    """Swap two neighbouring letters in one word of four letters or more (never the ticker)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha() and w != keep]
    if not candidates:
        return text
    i = candidates[int(u * len(candidates))]
    w = words[i]
    k = 1 + int(u * 1000) % (len(w) - 2)
    words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    return " ".join(words)
