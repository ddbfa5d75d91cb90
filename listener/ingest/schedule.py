"""When a source is polled next, and what its row says after a poll: success, not modified, deferred or failed."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from listener.errors import FetchError, LocalError, RateLimited
from listener.models import FetchResult
from listener.settings import IngestSettings

MAX_DEFERRAL = timedelta(days=7)


@dataclass
class SourceRow:
    """A polled source's row: read at the start of its batch, settled here, written back with the whole batch.

    Plain data rather than the ORM's Source: loading and flushing ORM objects cost more than storing the posts of
    a source that did not change (most sources, most runs).
    """

    id: int
    customer_id: int
    kind: str
    locator: str
    etag: str
    last_modified: str
    cursor: dict[str, Any]
    declared_lang: str
    enabled: bool
    disabled_reason: str
    polls: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    error_count: int
    last_error: str
    failing_since: datetime | None
    lease_owner: str
    lease_until: datetime | None


READ_ONLY = ("id", "customer_id", "kind")
COLUMNS = tuple(f.name for f in fields(SourceRow))
SETTLED = tuple(name for name in COLUMNS if name not in READ_ONLY)  # what a poll may change


def backoff(error_count: int, settings: IngestSettings) -> timedelta:
    """Exponential wait after `error_count` consecutive errors, capped, never infinite (a source always recovers)."""
    base = timedelta(minutes=max(1, settings.interval_minutes))
    cap = timedelta(hours=max(1, settings.max_backoff_hours))
    exponent = min(max(error_count - 1, 0), 30)
    return min(base * (2**exponent), cap)


def _release(source: SourceRow, now: datetime) -> None:
    source.lease_owner = ""
    source.lease_until = None
    source.last_polled_at = now
    source.polls = (source.polls or 0) + 1


def settle_success(source: SourceRow, result: FetchResult, now: datetime, settings: IngestSettings) -> None:
    """A good poll: save the new state, clear the error, schedule the next regular poll."""
    state: dict[str, Any] = dict(result.state)
    source.etag = str(state.pop("etag", "") or "")[:1000]
    source.last_modified = str(state.pop("last_modified", "") or "")[:200]
    source.cursor = state
    if result.declared_lang:
        source.declared_lang = result.declared_lang[:16]
    source.error_count = 0
    source.last_error = ""
    source.failing_since = None
    source.last_success_at = now
    source.next_poll_at = now + timedelta(minutes=max(1, settings.interval_minutes))
    _release(source, now)


def settle_error(source: SourceRow, error: FetchError, now: datetime, settings: IngestSettings) -> str:
    """A failed poll: defer (rate limit), disable (gone for good) or back off; returns which of the three."""
    _release(source, now)
    if isinstance(error, RateLimited):
        wait = timedelta(seconds=max(1.0, error.retry_after or 0.0))
        source.next_poll_at = now + min(wait, MAX_DEFERRAL)
        return "deferred"
    message = error.message[:500]
    source.last_error = message
    source.failing_since = source.failing_since or now
    source.error_count = (source.error_count or 0) + 1
    if isinstance(error, LocalError):
        # What the source saved may be what broke the poll (a validator that could not be sent): the next poll
        # starts afresh, unconditional, rather than fail the same way forever.
        source.etag = source.last_modified = ""
        source.cursor = {k: v for k, v in (source.cursor or {}).items() if k != "body_sha"}
    if error.permanent:
        source.enabled = False
        source.disabled_reason = message
        source.next_poll_at = None
        return "disabled"
    wait = backoff(source.error_count, settings)
    if error.retry_after:
        wait = max(wait, timedelta(seconds=min(error.retry_after, MAX_DEFERRAL.total_seconds())))
    source.next_poll_at = now + wait
    return "failed"
