"""The explicit registry of source kinds: a dict from kind name to connector class, no import-time magic."""

from __future__ import annotations

from connectors.base import Connector
from connectors.page import PageConnector
from connectors.reddit import RedditConnector
from connectors.rss import RssConnector
from connectors.twitter import TwitterConnector

CONNECTORS: dict[str, type[Connector]] = {
    RssConnector.kind: RssConnector,
    PageConnector.kind: PageConnector,
    TwitterConnector.kind: TwitterConnector,
    RedditConnector.kind: RedditConnector,
}


def connector_for(kind: str) -> type[Connector]:
    return CONNECTORS[kind]
