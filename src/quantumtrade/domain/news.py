"""Source-neutral values of the information world: news stories and social posts.

A market-data source that knows the news (Alpaca's news API, the simulator) produces these; the
sentiment service scores them. Times are timezone-aware UTC. ``created_at`` is when the market
could first know the item: nothing may use it before then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One news story. ``created_at`` is when the market could first know it (UTC)."""

    id: str
    headline: str
    summary: str
    # The article body (may contain HTML); empty unless asked for or the source has none.
    content: str
    author: str
    source: str
    url: str | None
    symbols: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SocialPost:
    """One social media post that names one or more symbols (by ticker or ``$cashtag``)."""

    id: str
    text: str
    author: str
    # The author's audience when the post was made; bots tend to have few followers.
    followers: int
    platform: str
    symbols: tuple[str, ...]
    created_at: datetime
    likes: int
    reposts: int
