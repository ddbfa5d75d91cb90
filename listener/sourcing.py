"""Sources: turning what a person typed (feed URL, homepage, profile, @handle, r/sub) into a source row."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.discovery import Discovery, discover, google_news_feed
from connectors.http import SafeFetcher, check_url
from connectors.registry import CONNECTORS
from listener.db.schema import Customer, Source
from listener.directory import get_customer
from listener.errors import AlreadyExists, BadInput, FetchError, NotFound
from listener.settings import Settings

URL_KINDS = ("rss", "page")


@dataclass(frozen=True)
class AddedSource:
    source: Source
    message: str  # one line saying what was added (and how it was found)
    alternatives: tuple[str, ...] = ()  # other feeds found that were not chosen


@dataclass(frozen=True)
class Resolved:
    kind: str
    locator: str
    title: str = ""
    message: str = ""
    alternatives: tuple[str, ...] = ()


def _is_url(locator: str) -> bool:
    return locator.lower().startswith(("http://", "https://"))


def _check_url(locator: str) -> str:
    try:
        return check_url(locator)
    except FetchError:
        raise BadInput(f"{locator!r} is not an http(s) URL", hint="use e.g. https://example.com/feed") from None


def resolve_locator(
    settings: Settings, locator: str, kind: str | None = None, *, discovery: Discovery | None = None
) -> Resolved:
    """Decide kind and canonical locator; for a URL without --kind, discover its feed over the network."""
    locator = locator.strip()
    if not locator:
        raise BadInput("a source needs a locator", hint="a feed or homepage URL, @handle, r/sub or u/name")
    if kind is not None:
        if kind not in CONNECTORS:
            raise BadInput(f"unknown source kind {kind!r}", hint=f"use one of {', '.join(CONNECTORS)}")
        if kind in URL_KINDS:
            return Resolved(kind, _check_url(locator), message=f"added {locator} as {kind}")
        normalized = CONNECTORS[kind].normalize_locator(locator)
        if normalized is None:
            raise BadInput(f"{locator!r} is not a {kind} locator")
        return Resolved(kind, normalized, message=f"added {normalized} as {kind}")
    for name, connector in CONNECTORS.items():
        if name in URL_KINDS:
            continue
        normalized = connector.normalize_locator(locator)
        if normalized is not None:
            return Resolved(name, normalized, message=f"added {normalized} as {name}")
    if not _is_url(locator):
        raise BadInput(
            f"cannot tell what {locator!r} is", hint="give a feed or homepage URL, @handle, r/sub, u/name or --kind"
        )
    url = _check_url(locator)
    found = discovery if discovery is not None else discover_url(settings, url)
    if not found.feeds:
        raise BadInput(f"no feed found at {url}", hint=f"to watch the page for new articles: --kind page {url}")
    main, *others = found.feeds
    how = "is a feed" if main.url == url else f"has a feed at {main.url}"
    return Resolved(
        "rss",
        main.url,
        title=main.title or found.page_title,
        message=f"added {main.url} as rss ({url} {how})",
        alternatives=tuple(c.url for c in others),
    )


def discover_url(settings: Settings, url: str) -> Discovery:
    """Run feed discovery for one URL on a fresh event loop; network trouble becomes BadInput."""

    async def run() -> Discovery:
        fetcher = SafeFetcher(settings.fetch)
        try:
            return await discover(url, fetcher)
        finally:
            await fetcher.aclose()

    try:
        return asyncio.run(run())
    except FetchError as exc:
        raise BadInput(
            f"cannot read {url}: {exc.message}", hint="check the URL, or pass --kind rss to add it anyway"
        ) from None


def add_source(
    session: Session,
    settings: Settings,
    customer_name: str,
    locator: str,
    kind: str | None = None,
    google_news: bool = False,
) -> AddedSource:
    """Attach a source to a customer; raises BadInput/NotFound/AlreadyExists and then changes nothing."""
    customer = get_customer(session, customer_name)
    if google_news:
        resolved = Resolved(
            "rss", google_news_feed(customer.name, customer.language), title=f"Google News: {customer.name}"
        )
        resolved = Resolved(
            resolved.kind, resolved.locator, resolved.title, f"added a Google News search for {customer.name!r}"
        )
    else:
        resolved = resolve_locator(settings, locator, kind)
    source = insert_source(session, customer, resolved)
    return AddedSource(source=source, message=resolved.message, alternatives=resolved.alternatives)


def insert_source(session: Session, customer: Customer, resolved: Resolved) -> Source:
    """Insert the source row, due at once; AlreadyExists if the customer has it."""
    exists = session.scalar(
        select(Source.id).where(
            Source.customer_id == customer.id, Source.kind == resolved.kind, Source.locator == resolved.locator
        )
    )
    if exists is not None:
        raise AlreadyExists(f"{customer.name} already has {resolved.kind} source {resolved.locator} (id {exists})")
    source = Source(
        customer_id=customer.id,
        kind=resolved.kind,
        locator=resolved.locator,
        title=resolved.title[:500],
        enabled=True,
        etag="",
        last_modified="",
        cursor={},
        polls=0,
        error_count=0,
        created_at=datetime.now(UTC),
    )
    session.add(source)
    session.flush()
    return source


def list_sources(
    session: Session, customer_name: str | None = None, *, failing: bool = False
) -> Sequence[tuple[Source, str]]:
    """(source, customer name) pairs, failing or disabled ones only with `failing`."""
    query = select(Source, Customer.name).join(Customer, Customer.id == Source.customer_id)
    if customer_name:
        query = query.where(Source.customer_id == get_customer(session, customer_name).id)
    if failing:
        query = query.where((Source.error_count > 0) | Source.enabled.is_(False))
    rows = session.execute(query.order_by(Customer.name, Source.id)).all()
    return [(source, name) for source, name in rows]


def remove_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(f"no source with id {source_id}", hint="see `listener source list`")
    session.delete(source)
    return source
