"""The fake X and Reddit servers' content: data files with relative times, turned into the APIs' real JSON objects."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOCIAL_DIR = Path(__file__).resolve().parent / "data" / "social"
TWITTER_EPOCH_MS = 1288834974657  # X ids are "snowflakes": milliseconds since this instant, shifted left 22 bits


def snowflake(epoch_seconds: float, sequence: int) -> str:
    """An X-style id for a post made at this time: ids grow with time, as since_id relies on."""
    return str(((int(epoch_seconds * 1000) - TWITTER_EPOCH_MS) << 22) + sequence)


def iso(epoch_seconds: float) -> str:
    """X's timestamp format: `2024-05-01T12:00:00.000Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch_seconds))


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


@dataclass
class SocialData:
    """Everything the fake APIs serve; tests add to it through the server's helpers."""

    x_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case username -> user object
    tweets: list[dict[str, Any]] = field(default_factory=list)  # tweet objects plus "_author_id", "_kind"
    subreddits: dict[str, str] = field(default_factory=dict)  # lower-case name -> public | private | banned
    reddit_users: dict[str, str] = field(default_factory=dict)  # lower-case name -> active | suspended
    reddit_posts: list[dict[str, Any]] = field(default_factory=list)  # t3 data objects
    sequence: int = 0

    def add_x_user(self, username: str, name: str = "", user_id: str | None = None) -> dict[str, Any]:
        """Register an X account; returns its user object."""
        self.sequence += 1
        user = {"id": user_id or str(1_400_000_000_000_000_000 + self.sequence), "name": name or username}
        user["username"] = username
        self.x_users[username.lower()] = user
        return user

    def add_tweet(
        self,
        username: str,
        text: str,
        *,
        seconds_ago: float = 0.0,
        lang: str = "en",
        urls: Sequence[tuple[str, str]] = (),
        kind: str = "",  # "" | "retweet" | "reply"
        metrics: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Add one post by an existing account; `urls` are (t.co link in the text, where it leads)."""
        user = self.x_users[username.lower()]
        self.sequence += 1
        when = time.time() - seconds_ago
        tweet: dict[str, Any] = {
            "id": snowflake(when, self.sequence),
            "text": text,
            "created_at": iso(when),
            "lang": lang,
            "author_id": user["id"],
            "public_metrics": {
                "retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0,
                "bookmark_count": 0, "impression_count": 0, **(metrics or {}),
            },
            "_kind": kind,
        }  # fmt: skip
        tweet["edit_history_tweet_ids"] = [tweet["id"]]
        entities = []
        for short, target in urls:
            start = text.find(short)
            entities.append(
                {"start": start, "end": start + len(short), "url": short, "expanded_url": target,
                 "display_url": re.sub(r"^https?://(www\.)?", "", target)[:26]}
            )  # fmt: skip
        if entities:
            tweet["entities"] = {"urls": entities}
        if kind:
            ref_type = "retweeted" if kind == "retweet" else "replied_to"
            tweet["referenced_tweets"] = [{"type": ref_type, "id": snowflake(when - 3600, 0)}]
        self.tweets.append(tweet)
        return tweet

    def add_reddit_post(
        self,
        subreddit: str,
        author: str,
        title: str,
        *,
        selftext: str = "",
        url: str = "",
        seconds_ago: float = 0.0,
        score: int = 1,
        num_comments: int = 0,
    ) -> dict[str, Any]:
        """Add one submission (a self post, or a link post when `url` is given)."""
        self.sequence += 1
        when = time.time() - seconds_ago
        post_id = base36(1_500_000_000 + self.sequence)  # reddit ids grow with each new post
        slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50]
        permalink = f"/r/{subreddit}/comments/{post_id}/{slug}/"
        post = {
            "subreddit": subreddit, "subreddit_name_prefixed": f"r/{subreddit}", "subreddit_id": "t5_2qh1i",
            "title": title, "selftext": selftext, "author": author,
            "author_fullname": f"t2_{base36(sum(map(ord, author)) * 7919)}",
            "name": f"t3_{post_id}", "id": post_id, "created_utc": float(int(when)), "created": float(int(when)),
            "score": score, "ups": score, "upvote_ratio": 0.97, "num_comments": num_comments,
            "permalink": permalink, "url": url or f"https://www.reddit.com{permalink}", "is_self": not url,
            "domain": re.sub(r"^https?://([^/]+).*$", r"\1", url) if url else f"self.{subreddit}",
            "over_18": False, "stickied": False, "link_flair_text": None, "approved_at_utc": None,
        }  # fmt: skip
        self.reddit_posts.append(post)
        self.subreddits.setdefault(subreddit.lower(), "public")
        self.reddit_users.setdefault(author.lower(), "active")
        return post


def load_social_data(data_dir: Path | None = None) -> SocialData:
    """Read x.json and reddit.json from data_dir (times there are relative: `hours_ago`)."""
    folder = data_dir or SOCIAL_DIR
    data = SocialData()
    x_file, reddit_file = folder / "x.json", folder / "reddit.json"
    if x_file.is_file():
        x_doc = json.loads(x_file.read_text(encoding="utf-8"))
        for user in x_doc.get("users", []):
            data.add_x_user(user["username"], user.get("name", ""), user.get("id"))
        for t in sorted(x_doc.get("tweets", []), key=lambda t: -float(t.get("hours_ago", 0))):
            data.add_tweet(
                t["author"], t["text"], seconds_ago=float(t.get("hours_ago", 0)) * 3600, lang=t.get("lang", "en"),
                urls=[(u["url"], u["expanded_url"]) for u in t.get("urls", [])], kind=t.get("kind", ""),
                metrics=t.get("public_metrics"),
            )  # fmt: skip
    if reddit_file.is_file():
        r_doc = json.loads(reddit_file.read_text(encoding="utf-8"))
        data.subreddits.update({name.lower(): status for name, status in r_doc.get("subreddits", {}).items()})
        data.reddit_users.update({name.lower(): status for name, status in r_doc.get("users", {}).items()})
        for p in sorted(r_doc.get("posts", []), key=lambda p: -float(p.get("hours_ago", 0))):
            data.add_reddit_post(
                p["subreddit"], p["author"], p["title"], selftext=p.get("selftext", ""), url=p.get("url", ""),
                seconds_ago=float(p.get("hours_ago", 0)) * 3600, score=int(p.get("score", 1)),
                num_comments=int(p.get("num_comments", 0)),
            )  # fmt: skip
    return data
