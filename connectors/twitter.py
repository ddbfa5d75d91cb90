"""X/Twitter connector (API v2 through tweepy): work in progress, see issue 4."""

from __future__ import annotations

from typing import ClassVar

from connectors.base import ConnectorContext
from listener.errors import FetchError
from listener.models import FetchResult, SourceRef
from listener.settings import Settings


class TwitterConnector:
    """Polls one X account's timeline."""

    kind: ClassVar[str] = "twitter"

    @classmethod
    def unavailable_reason(cls, settings: Settings) -> str | None:
        return (
            None
            if settings.twitter.bearer_token
            else "X sources are skipped: LISTENER_TWITTER_BEARER_TOKEN is not set."
        )

    @classmethod
    def normalize_locator(cls, locator: str) -> str | None:
        return None

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        raise FetchError("the X connector is not ready yet")
