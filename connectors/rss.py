"""RSS, Atom and JSON Feed sources: conditional GET through the safe fetcher, parsing off the event loop."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from connectors.base import ConnectorContext, PostWork
from connectors.feedparse import ParsedFeed, parse_feed
from connectors.http import FetchResponse, check_url
from listener.errors import FetchError
from listener.models import FetchResult, PreparedPosts, SourceRef
from listener.settings import Settings


def conditional_headers(state: dict[str, object]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the saved validators, so an unchanged feed costs a 304.

    A validator is sent as latin-1 bytes (HTTP's obs-text: the bytes it came in as, unless the server sent UTF-8);
    one with a character beyond latin-1, or a control character, is not sent at all: the poll is then unconditional,
    which costs a body, never a failure.
    """
    headers = {}
    for key, name in (("etag", "If-None-Match"), ("last_modified", "If-Modified-Since")):
        value = str(state.get(key) or "")
        if value and _sendable(value):
            headers[name] = value
    return headers


def _sendable(value: str) -> bool:
    """Whether the value is an HTTP field value: visible ASCII, obs-text (0x80-0xFF), spaces and tabs."""
    return all(c == "\t" or (" " <= c <= "\xff" and c != "\x7f") for c in value)


def next_state(state: dict[str, object], response: FetchResponse) -> dict[str, object]:
    """The validators to save: the server's new ones, or the old ones when it sent none (a 304 often omits them)."""
    new = dict(state)
    new["etag"] = response.headers.get("etag", "") or str(state.get("etag", "") or "")
    new["last_modified"] = response.headers.get("last-modified", "") or str(state.get("last_modified", "") or "")
    return new


class RssConnector:
    """Polls one feed URL (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.x)."""

    kind: ClassVar[str] = "rss"

    @classmethod
    def unavailable_reason(cls, settings: Settings) -> str | None:
        return None

    @classmethod
    def normalize_locator(cls, locator: str) -> str | None:
        try:
            return check_url(locator.strip())
        except FetchError:
            return None

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        response = await ctx.http.get(source.locator, conditional_headers(source.state))
        state = next_state(source.state, response)
        new_locator = response.permanent_url if response.permanent_url not in (None, source.locator) else None
        if response.status == 304:
            return FetchResult(posts=(), state=state, not_modified=True, new_locator=new_locator)
        # Servers without validators still send the same bytes: a digest of the body makes that a cheap no-op too.
        body_sha = hashlib.sha256(response.body).hexdigest()
        if body_sha == source.state.get("body_sha"):
            return FetchResult(posts=(), state=state, not_modified=True, new_locator=new_locator)
        content_type = response.headers.get("content-type", "")
        parsed, prepared = await parse_in_pool(ctx, response.body, response.url, content_type, ctx.post_work(source))
        if parsed.error:
            raise FetchError(parsed.error)
        state["body_sha"] = body_sha
        if prepared is None:
            return FetchResult(parsed.posts, state, new_locator=new_locator, declared_lang=parsed.lang)
        return FetchResult(
            prepared.posts,
            {**state, **prepared.state},
            new_locator=new_locator,
            declared_lang=parsed.lang,
            insights=prepared.insights,
            keys=prepared.keys,
        )


async def parse_in_pool(
    ctx: ConnectorContext, body: bytes, url: str, content_type: str, work: PostWork | None = None
) -> tuple[ParsedFeed, PreparedPosts | None]:
    """Parse (and do the run's work on the posts) in the run's process pool when it has one, else right here."""
    if ctx.parsers is None:
        return parse_and_prepare(body, url, content_type, ctx.now(), work)
    return await ctx.parsers.run(parse_and_prepare, body, url, content_type, ctx.now(), work)


def parse_and_prepare(
    body: bytes, url: str, content_type: str, now: datetime, work: PostWork | None
) -> tuple[ParsedFeed, PreparedPosts | None]:
    """One job for a parser process: the feed's posts, and the run's work on them while they are at hand."""
    parsed = parse_feed(body, url, content_type, now)
    if parsed.error or work is None:
        return parsed, None
    # The prepared posts replace the parsed ones: unchanged posts are not shipped back to the event loop.
    return replace(parsed, posts=()), work(parsed.posts)
