"""Reddit connector (praw): work in progress, see issue 4."""

from __future__ import annotations

from typing import ClassVar

from connectors.base import ConnectorContext
from listener.errors import FetchError
from listener.models import FetchResult, SourceRef
from listener.settings import Settings


class RedditConnector:
    """Polls one subreddit, user or search."""

    kind: ClassVar[str] = "reddit"

    @classmethod
    def unavailable_reason(cls, settings: Settings) -> str | None:
        return (
            None if settings.reddit.client_id else "Reddit sources are skipped: LISTENER_REDDIT_CLIENT_ID is not set."
        )

    @classmethod
    def normalize_locator(cls, locator: str) -> str | None:
        return None

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        raise FetchError("the Reddit connector is not ready yet")
