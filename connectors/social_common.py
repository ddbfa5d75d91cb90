"""What the X and Reddit connectors share: a bounded requests session, rate-limit groups, one lock per API.

tweepy and praw bring their own `requests` sessions. tweepy sets no timeout at all and praw's prawcore uses a
fixed 16 s per request whatever is configured, so both are handed a `BoundedSession` that puts our time limit
(and a size cap) on every call they make.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests

from connectors.base import ConnectorContext
from listener.errors import FetchError, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BODY_BYTES = 5_000_000  # an API page is a few hundred kB at most; anything bigger is not an answer


class ApiUnreachable(requests.RequestException):
    """The API timed out earlier in this run; not a ConnectionError, so prawcore does not retry it."""


class BoundedSession(requests.Session):
    """A requests session where every call has a time limit and a size cap, and no redirect is followed."""

    def __init__(self, *, timeout: float, api_name: str, rewrite: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.timeout = timeout
        self.api_name = api_name
        self.rewrite = rewrite  # (prefix the library hard-codes, prefix to use instead)
        self.unreachable: str | None = None  # set after a timeout: the rest of the run stops asking
        self.last_headers: requests.structures.CaseInsensitiveDict[str] | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one request with our limits; remember a dead API so the rest of the run fails fast."""
        if self.unreachable:
            raise ApiUnreachable(self.unreachable)
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        if self.rewrite and url.startswith(self.rewrite[0]):
            url = self.rewrite[1] + url[len(self.rewrite[0]) :]
        # Ours always wins: tweepy passes no timeout, prawcore passes its own fixed default.
        kwargs["timeout"] = (self.timeout, self.timeout)
        kwargs["stream"] = True
        # An API never needs a redirect; following one could carry the token to another host.
        kwargs["allow_redirects"] = False
        deadline = time.monotonic() + self.timeout
        try:
            response = super().request(method, url, *args, **kwargs)
            body = _read_bounded(response, deadline, self.timeout)
        except requests.Timeout:
            # Only a timeout marks the API as down: a dropped keep-alive connection is worth the library's retry.
            self.unreachable = f"the {self.api_name} did not answer within {self.timeout:g} s"
            raise
        # requests keeps the body it read in `_content`; filling it makes `.json()`/`.text` use the bounded body.
        response._content = body
        self.last_headers = response.headers
        return response


def _read_bounded(response: requests.Response, deadline: float, timeout: float) -> bytes:
    """The whole body, or Timeout if it trickles in past the deadline, or an error if it is too big."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise requests.ConnectionError(f"answer larger than {MAX_BODY_BYTES} bytes")
        if time.monotonic() > deadline:
            response.close()
            raise requests.Timeout(f"answer took longer than {timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class ApiHandle:
    """One API client per run (kept in ctx.shared), with the lock that makes its sources take turns."""

    client: Any
    session: BoundedSession
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    fatal: FetchError | None = None  # a rejected credential: every source of this kind gets it, no network call

    async def call(self, function: Callable[[], T]) -> T:
        """Run one blocking library call in a thread, one at a time, so the event loop keeps polling feeds."""
        async with self.lock:
            return await asyncio.to_thread(function)


def check_deferred(ctx: ConnectorContext, group: str, what: str) -> None:
    """Raise RateLimited, without any network call, when an earlier source hit this rate-limit group."""
    until = ctx.deferred_until.get(group)
    if until is None:
        return
    wait = (until - ctx.now()).total_seconds()
    if wait > 0:
        raise RateLimited(f"{what}: rate limit reached, waiting until {until:%H:%M} UTC", retry_after=wait)


def defer(ctx: ConnectorContext, group: str, seconds: float) -> datetime:
    """Defer every source of this rate-limit group for `seconds` (never less than one)."""
    until = ctx.now() + timedelta(seconds=max(1.0, seconds))
    previous = ctx.deferred_until.get(group)
    if previous is None or previous < until:
        ctx.deferred_until[group] = until
    return ctx.deferred_until[group]


def header_float(headers: Any, name: str) -> float | None:
    """A numeric response header, or None when it is missing or not a number."""
    if headers is None:
        return None
    raw = headers.get(name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def unreachable_error(session: BoundedSession) -> FetchError:
    """The error every remaining source gets once the API stopped answering in this run."""
    return FetchError(f"{session.unreachable}; will try again on the next run")
