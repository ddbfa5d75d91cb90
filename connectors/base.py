"""The connector seam: a connector takes a source's saved state and returns normalized posts and the new state.

Connectors know nothing about the database or the digest. They are async so that one event loop keeps
hundreds of polls in flight; a connector whose library is synchronous (praw) runs it in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from listener.models import FetchResult, SourceRef
from listener.settings import Settings

if TYPE_CHECKING:
    from connectors.http import SafeFetcher


T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Parse(Protocol):
    """Runs a connector's pure parse function off the event loop: `await ctx.parse(function, *args)`.

    The function and its arguments must be picklable (a module-level function, bytes, strings): the ingest runs it
    in its parser processes, where it does its own work on the posts the function returns (listener/ingest/
    prepare.py). A result with `posts` may come back with fewer of them: those are the ones left to store.
    """

    async def __call__(self, function: Callable[..., T], *args: Any) -> T: ...


async def parse_here(function: Callable[..., T], *args: Any) -> T:
    """The Parse of a context without parser processes (tests, `source add`): the function, called right here."""
    return function(*args)


@dataclass
class ConnectorContext:
    """What every connector may use during one ingest run; built once per run by the ingest orchestrator."""

    settings: Settings
    http: SafeFetcher  # the shared, safe HTTP client (time, size and address limits)
    parse: Parse = parse_here  # CPU-bound parsing goes here, so that it uses the cores and never stalls the loop
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
