"""RSS, Atom and JSON Feed sources: conditional GET through the safe fetcher, then `parse` off the event loop."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import ClassVar

from connectors.base import ConnectorContext
from connectors.feedparse import ParsedFeed, parse_feed
from connectors.http import FetchResponse, check_url
from listener.errors import FetchError
from listener.models import FetchResult, SourceRef
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
        parsed = await ctx.parse(parse, response.body, response.url, content_type, ctx.now())
        if parsed.error:
            raise FetchError(parsed.error)
        state["body_sha"] = body_sha
        return FetchResult(parsed.posts, state, new_locator=new_locator, declared_lang=parsed.lang)


def parse(body: bytes, url: str, content_type: str, now: datetime) -> ParsedFeed:
    """The feed's posts (or why it is not a feed): pure and picklable, for the ingest's parser processes."""
    return parse_feed(body, url, content_type, now)
