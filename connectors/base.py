"""The connector seam: a connector takes a source's saved state and returns normalized posts and the new state.

Connectors know nothing about the database or the digest. They are async so that one event loop keeps
hundreds of polls in flight; a connector whose library is synchronous (praw) runs it in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from connectors.parsing import ParserQueue
from listener.models import FetchResult, Post, PreparedPosts, SourceRef
from listener.settings import Settings

if TYPE_CHECKING:
    from connectors.http import SafeFetcher


def utcnow() -> datetime:
    return datetime.now(UTC)


class PostWork(Protocol):
    """Work the ingest run wants done on a source's parsed posts where they were parsed (a parser process).

    Picklable, since it travels to the process pool with the feed's bytes.
    """

    def __call__(self, posts: tuple[Post, ...]) -> PreparedPosts: ...


def no_post_work(source: SourceRef) -> PostWork | None:
    return None


@dataclass
class ConnectorContext:
    """What every connector may use during one ingest run; built once per run by the ingest orchestrator."""

    settings: Settings
    http: SafeFetcher  # the shared, safe HTTP client (time, size and address limits)
    parsers: ParserQueue | None = None  # CPU-bound parsing goes here so it uses the cores
    # The work to do on a source's posts right after parsing them, in the same process (see PostWork).
    post_work: Callable[[SourceRef], PostWork | None] = no_post_work
    now: Callable[[], datetime] = utcnow
    # Rate-limit groups deferred until a time (e.g. "twitter:timeline"): sources sharing a limit wait together.
    deferred_until: dict[str, datetime] = field(default_factory=dict)
    # Anything a connector wants to share across the sources of one run (an API client, a resolved token).
    shared: dict[str, Any] = field(default_factory=dict)


class Connector(Protocol):
    """One source kind. Implementations are small: one file per kind under connectors/."""

    kind: ClassVar[str]

    @classmethod
    def unavailable_reason(cls, settings: Settings) -> str | None:
        """Why this kind cannot run at all (e.g. no API token), said once per run; None when it can."""
        ...

    @classmethod
    def normalize_locator(cls, locator: str) -> str | None:
        """The canonical form of a locator this kind understands, or None if it is not one of ours."""
        ...

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        """Poll the source once; raise listener.errors.FetchError (with retry_after/permanent) on failure."""
        ...
