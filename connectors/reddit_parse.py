"""Reddit locators (`r/sub`, `u/name`, `reddit:search:"words"`, reddit.com URLs) and t3 JSON to our own `Post`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from listener.models import Post

SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
USERNAME = re.compile(r"^[A-Za-z0-9_-]{3,20}$")
REDDIT_HOSTS = {"reddit.com", "www.reddit.com", "old.reddit.com", "new.reddit.com", "np.reddit.com", "m.reddit.com"}
SEARCH_PREFIX = "reddit:search:"
PUBLIC_BASE = "https://www.reddit.com"  # canonical links point at reddit itself, whatever API base is configured


@dataclass(frozen=True)
class Target:
    """What a normalized locator asks Reddit for: the listing path, its fixed parameters, a label for humans."""

    path: str
    params: dict[str, str]
    label: str


def normalize_reddit(locator: str) -> str | None:
    """`/r/Acme/`, `https://reddit.com/user/Acme` -> `r/acme`, `u/acme`; search words are kept as typed."""
    text = locator.strip()
    if text.lower().startswith(SEARCH_PREFIX):
        words = " ".join(text[len(SEARCH_PREFIX) :].split())
        return f"{SEARCH_PREFIX}{words}" if words.strip('"') else None
    if "://" in text or text.split("/", 1)[0].lower() in REDDIT_HOSTS:
        parts = urlsplit(text if "://" in text else "https://" + text)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in REDDIT_HOSTS:
            return None
        text = parts.path
    segments = [s for s in text.split("/") if s]
    if len(segments) < 2:
        return None
    prefix, name = segments[0].lower(), segments[1]
    if prefix == "r" and SUBREDDIT.match(name):
        return f"r/{name.lower()}"
    if prefix in ("u", "user") and USERNAME.match(name):
        return f"u/{name.lower()}"
    return None


def target_for(normalized: str) -> Target:
    """The API listing behind a normalized locator, newest first."""
    if normalized.startswith(SEARCH_PREFIX):
        words = normalized[len(SEARCH_PREFIX) :]
        return Target("/search", {"q": words, "sort": "new", "type": "link"}, f"Reddit search {words}")
    kind, name = normalized.split("/", 1)
    if kind == "r":
        return Target(f"/r/{name}/new", {}, f"r/{name}")
    return Target(f"/user/{name}/submitted", {"sort": "new"}, f"u/{name}")


def t3_to_post(data: dict[str, Any]) -> Post:
    """One submission (`kind: t3`) as a Post; a link post keeps the link it shares."""
    created = data.get("created_utc")
    permalink = str(data.get("permalink") or "")
    url = str(data.get("url") or "")
    links = (url,) if url and not data.get("is_self") and "reddit.com/" not in url else ()
    metrics = {
        ours: int(value)
        for theirs, ours in (("score", "score"), ("num_comments", "comments"))
        if isinstance(value := data.get(theirs), int | float)
    }
    author = str(data.get("author") or "")
    return Post(
        external_id=str(data.get("name") or f"t3_{data.get('id')}"),
        url=PUBLIC_BASE + permalink if permalink.startswith("/") else url,
        title=str(data.get("title") or ""),
        text=str(data.get("selftext") or ""),
        published_at=datetime.fromtimestamp(float(created), UTC) if isinstance(created, int | float) else None,
        author=f"u/{author}" if author and author != "[deleted]" else "",
        source_kind="reddit",
        links=links,
        metrics=metrics,
    )


def is_new(data: dict[str, Any], state: dict[str, Any]) -> bool:
    """Newer than the cursor (created_utc), or as old but not among the posts already seen at that second."""
    created = float(data.get("created_utc") or 0.0)
    newest = float(state.get("newest_utc") or 0.0)
    return created > newest or (created == newest and data.get("name") not in (state.get("seen_at_newest") or []))


def advance(state: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The cursor after these posts: the newest created_utc, and the fullnames posted at that very second."""
    new_state = dict(state)
    for data in items:
        created = float(data.get("created_utc") or 0.0)
        newest = float(new_state.get("newest_utc") or 0.0)
        if created > newest:
            new_state["newest_utc"] = created
            new_state["newest"] = data.get("name")
            new_state["seen_at_newest"] = [data.get("name")]
        elif created == newest and data.get("name") not in new_state.get("seen_at_newest", []):
            new_state["seen_at_newest"] = [*new_state.get("seen_at_newest", []), data.get("name")]
    return new_state
