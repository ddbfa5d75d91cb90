"""X API v2 JSON to our own `Post`, and X locators (`@handle`, x.com and twitter.com profile URLs) to `@handle`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from listener.models import Post

HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
X_HOSTS = {"x.com", "twitter.com", "mobile.x.com", "mobile.twitter.com", "www.x.com", "www.twitter.com"}
# First path segments of x.com that are pages of the site, not accounts.
RESERVED = {
    "home", "explore", "search", "i", "intent", "share", "hashtag", "settings", "messages",
    "notifications", "login", "logout", "signup", "tos", "privacy", "compose", "who_to_follow",
}  # fmt: skip

TWEET_FIELDS = ["created_at", "lang", "public_metrics", "entities", "note_tweet", "referenced_tweets"]
METRICS = {"like_count": "likes", "retweet_count": "reposts", "reply_count": "comments", "quote_count": "quotes"}


def normalize_handle(locator: str) -> str | None:
    """`@Acme`, `x.com/acme`, `https://twitter.com/acme/status/1` -> `@acme`; None if it is not an X account."""
    text = locator.strip()
    if text.startswith("@"):
        handle = text[1:]
        return f"@{handle.lower()}" if HANDLE.match(handle) else None
    if "://" not in text and text.split("/", 1)[0].lower() in X_HOSTS:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in X_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not segments or segments[0].lower() in RESERVED or not HANDLE.match(segments[0]):
        return None
    return f"@{segments[0].lower()}"


def parse_time(value: Any) -> datetime | None:
    """X's `2024-05-01T12:00:00.000Z` as an aware UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _expand(text: str, urls: list[dict[str, Any]]) -> tuple[str, tuple[str, ...]]:
    """Replace t.co links by where they lead; media links (the tweet's own photos) are dropped from the text."""
    links: list[str] = []
    for entity in urls:
        short = entity.get("url")
        target = entity.get("unwound_url") or entity.get("expanded_url") or short
        if not isinstance(short, str) or not isinstance(target, str):
            continue
        if entity.get("media_key"):
            text = text.replace(short, "")
            continue
        text = text.replace(short, target)
        if target not in links:
            links.append(target)
    return text.strip(), tuple(links)


def tweet_to_post(tweet: dict[str, Any], username: str) -> Post:
    """One tweet object of the v2 API as a Post; long posts (note_tweet) keep their full text."""
    note = tweet.get("note_tweet") or {}
    text = note.get("text") or tweet.get("text") or ""
    entities = note.get("entities") if note.get("text") else tweet.get("entities")
    text, links = _expand(text, list((entities or {}).get("urls") or []))
    metrics = {
        ours: int(value)
        for theirs, ours in METRICS.items()
        if isinstance(value := (tweet.get("public_metrics") or {}).get(theirs), int)
    }
    return Post(
        external_id=str(tweet["id"]),
        url=f"https://x.com/{username}/status/{tweet['id']}",
        title="",
        text=text,
        published_at=parse_time(tweet.get("created_at")),
        author=f"@{username}",
        lang=_lang(tweet.get("lang")),
        source_kind="twitter",
        links=links,
        metrics=metrics,
    )


def _lang(value: Any) -> str:
    # X says "und" when it cannot tell, and "qme"/"zxx" etc. for media-only posts: not languages.
    return value if isinstance(value, str) and len(value) == 2 else ""


def newest_id(ids: list[str], current: str | None) -> str | None:
    """The largest tweet id (ids are numbers in strings; compare them as numbers)."""
    candidates = [i for i in ids if i.isdigit()] + ([current] if current and current.isdigit() else [])
    return max(candidates, key=int) if candidates else current
