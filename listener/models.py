"""The normalized models that cross Listener's seams: connectors return `Post`, the filter returns `Insight`.

Nothing here knows about feedparser, tweepy, praw or the ORM: each stage converts at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What the rep should do with a post (taxonomy.md)."""

    WIN = "win"
    NEWS = "news"
    GOAL = "goal"
    CHALLENGE = "challenge"
    NONE = "none"


CATEGORIES: dict[Kind, tuple[str, ...]] = {
    Kind.WIN: (
        "funding", "acquisition", "launch", "award", "milestone",
        "expansion", "partnership", "customer_win", "leadership", "press",
    ),
    Kind.NEWS: ("content", "event", "hiring", "update"),
    Kind.GOAL: ("plan",),
    Kind.CHALLENGE: ("layoffs", "incident", "legal", "departure", "downturn"),
    Kind.NONE: ("promo", "chatter", "other"),
}  # fmt: skip

KIND_OF_CATEGORY: dict[str, Kind] = {cat: kind for kind, cats in CATEGORIES.items() for cat in cats}


@dataclass(frozen=True)
class Post:
    """One item a source published, as every connector normalizes it."""

    external_id: str  # the entry's id within its source (guid, tweet id, reddit fullname, canonical URL)
    url: str  # canonical link to the original post ("" when the source gave none)
    title: str  # plain text; "" for tweets
    text: str  # plain text, HTML removed; untrusted
    published_at: datetime | None  # timezone-aware UTC; None when the source gave no usable date
    author: str = ""
    lang: str = ""  # declared language (feed, API), a hint for the filter; "" when unknown
    source_kind: str = "rss"  # rss | page | twitter | reddit: a hint for the filter (tweets are short)
    links: tuple[str, ...] = ()  # other links in the post (expanded, not t.co)
    metrics: dict[str, int] = field(default_factory=dict)  # likes, reposts, comments, score, where known
    updated_at: datetime | None = None  # the source's "updated" date, when it differs from published
    # The page where readers comment on the post (RSS <comments>, Atom rel="replies" text/html), checked by
    # connectors.feedtext.outbound_url: http(s) only, at most MAX_URL characters; "" when the feed names none.
    comments_url: str = ""


@dataclass(frozen=True)
class Insight:
    """What the relevance filter decided about one post."""

    kind: Kind
    category: str
    score: float  # in [0, 1]: how sure and how important
    lang: str  # detected (or declared) language, ISO 639-1
    evidence: tuple[str, ...] = ()  # the words that made the call
    facts: dict[str, Any] = field(default_factory=dict)  # money, round, award, place, person, ...

    @property
    def relevant(self) -> bool:
        return self.kind is not Kind.NONE


@dataclass(frozen=True)
class SourceRef:
    """What a connector needs to know about a source: its kind, its locator and its saved state."""

    id: int
    kind: str
    locator: str  # feed URL, page URL, @handle, r/sub, u/name, reddit:search:"words"
    state: dict[str, Any]  # connector-owned: etag, last_modified, since_id, user_id, cursor...
    customer_name: str = ""


@dataclass(frozen=True)
class FetchResult:
    """What a connector returns: the posts it found and the state to save for the next poll."""

    posts: tuple[Post, ...]
    state: dict[str, Any]
    not_modified: bool = False  # the server said nothing changed (HTTP 304, empty timeline)
    new_locator: str | None = None  # a permanent redirect moved the source
    declared_lang: str = ""  # the feed's own language, if it declares one
