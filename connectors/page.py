"""Pages without a feed: new article links on a blog page (and their titles) become posts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from connectors.base import ConnectorContext
from connectors.http import check_url
from connectors.pagelinks import PageTooComplex, article_links
from connectors.rss import conditional_headers, next_state
from listener.errors import FetchError
from listener.models import FetchResult, Post, SourceRef
from listener.settings import Settings


class PageConnector:
    """Watches one HTML page for links to articles it has not shown before."""

    kind: ClassVar[str] = "page"

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
        content_type = response.headers.get("content-type", "").lower()
        if content_type and "html" not in content_type and "xml" not in content_type:
            raise FetchError(f"expected an HTML page, got {content_type[:60]}")
        parsed = await ctx.parse(parse, response.body, response.url, content_type)
        if parsed.error:
            raise FetchError(parsed.error)
        return FetchResult(posts=parsed.posts, state=state, new_locator=new_locator)


@dataclass(frozen=True)
class ParsedPage:
    """The article links a page shows, as posts, or why it was not parsed."""

    posts: tuple[Post, ...] = ()
    error: str = ""


def parse(body: bytes, url: str, content_type: str) -> ParsedPage:
    """Pure and picklable, for the ingest's parser processes; a page past the size or nesting caps is refused."""
    try:
        links = article_links(body, url, content_type)
    except PageTooComplex as exc:
        return ParsedPage(error=str(exc))
    posts = tuple(
        Post(external_id=link, url=link, title=title, text="", published_at=None, source_kind="page")
        for link, title in links
    )
    return ParsedPage(posts=posts)
