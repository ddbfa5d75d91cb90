"""Sources: turning what a person typed (feed URL, homepage, profile, @handle, r/sub) into a source row."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.discovery import Discovery, discover, google_news_feed
from connectors.http import SafeFetcher, address_allowed, check_url
from connectors.registry import CONNECTORS
from connectors.xmlguard import DTD_REFUSED
from listener.db.schema import Customer, Source
from listener.directory import get_customer
from listener.errors import AlreadyExists, BadInput, FetchError, NotFound
from listener.settings import Settings

URL_KINDS = ("rss", "page")
_BARE_SITE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,63}(:\d+)?(/\S*)?$", re.IGNORECASE)


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


def normalize_url(url: str) -> str:
    """The URL with a lower-case scheme and host, no default port and no fragment; the path and query as given."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    scheme = parts.scheme.lower()
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def refuse_private(settings: Settings, url: str) -> None:
    """BadInput for a loopback or private address (or localhost) unless fetch.allow_private_networks is on; for a
    cloud metadata address always (the fetcher would refuse it at every poll)."""
    allow_private = settings.fetch.allow_private_networks
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    address = host
    if re.fullmatch(r"[0-9a-fx.]+", host) and any(c.isdigit() for c in host):
        with contextlib.suppress(OSError):  # legacy spellings the resolver accepts too: 2130706433, 0x7f000001
            address = socket.inet_ntoa(socket.inet_aton(host))
    try:
        ipaddress.ip_address(address)
    except ValueError:
        private = host == "localhost" or host.endswith(".localhost")
    else:
        if not address_allowed(address, allow_private=True):
            raise BadInput(
                f"refused {url}: {host} is a cloud metadata or unusable address, which Listener never fetches"
            )
        private = not address_allowed(address, allow_private=False)
    if private and not allow_private:
        raise BadInput(
            f"refused {url}: {host} is a loopback or private network address, which Listener does not fetch",
            hint="for an intranet feed, set fetch.allow_private_networks = true "
            "or LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS=true",
        )


def check_source_url(settings: Settings, locator: str) -> str:
    """The URL normalized, if it is an http(s) URL that Listener may fetch; BadInput otherwise."""
    try:
        check_url(locator)
        url = normalize_url(locator)
    except (FetchError, ValueError):
        raise BadInput(f"{locator!r} is not an http(s) URL", hint="use e.g. https://example.com/feed") from None
    refuse_private(settings, url)
    return url


def resolve_locator(
    settings: Settings, locator: str, kind: str | None = None, *, discovery: Discovery | None = None
) -> Resolved:
    """Decide kind and canonical locator; for a URL without a kind, discover its feed over the network."""
    locator = locator.strip()
    if not locator:
        raise BadInput("a source needs a locator", hint="a feed or homepage URL, @handle, r/sub or u/name")
    if kind is not None:
        if kind not in CONNECTORS:
            raise BadInput(f"unknown source kind {kind!r}", hint=f"use one of {', '.join(CONNECTORS)}")
        if kind in URL_KINDS:
            url = check_source_url(settings, locator)
            return Resolved(kind, url, message=f"added {url} as {kind}")
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
    if not _is_url(locator) and _BARE_SITE.match(locator):
        locator = "https://" + locator  # acme.example/blog: what a person copies from the address bar
    if not _is_url(locator):
        raise BadInput(
            f"cannot tell what {locator!r} is", hint="give a feed or homepage URL, @handle, r/sub, u/name or --kind"
        )
    url = check_source_url(settings, locator)
    found = discovery if discovery is not None else discover_url(settings, url)
    if not found.feeds:
        raise BadInput(
            f"no feed found at {url} (no <link rel=alternate>, no feed at the usual paths)",
            hint=f"to watch the page for new article links instead, add it with --kind page: {url}",
        )
    main, *others = found.feeds
    how = "is a feed" if main.url == url else f"has a feed at {main.url}"
    return Resolved(
        "rss",
        main.url,
        title=main.title or found.page_title,
        message=f"added {main.url} as rss ({url} {how})",
        alternatives=tuple(c.url for c in others),
    )


def _unreadable(url: str, exc: FetchError) -> BadInput:
    if "allow_private_networks" in exc.message or exc.message == DTD_REFUSED:  # --kind rss would not help
        return BadInput(f"cannot read {url}: {exc.message}")
    return BadInput(f"cannot read {url}: {exc.message}", hint="check the URL, or add it anyway with --kind rss")


def discover_urls(settings: Settings, urls: Sequence[str]) -> dict[str, Discovery | BadInput]:
    """Feed discovery for several URLs at once on one event loop; each answer is a Discovery or why it failed."""

    async def one(fetcher: SafeFetcher, url: str) -> Discovery | BadInput:
        try:
            return await discover(url, fetcher)
        except FetchError as exc:
            return _unreadable(url, exc)

    async def run() -> list[Discovery | BadInput]:
        fetcher = SafeFetcher(settings.fetch)
        try:
            return await asyncio.gather(*(one(fetcher, url) for url in urls))
        finally:
            await fetcher.aclose()

    unique = list(dict.fromkeys(urls))
    return dict(zip(unique, asyncio.run(run()) if unique else [], strict=True))


def discover_url(settings: Settings, url: str) -> Discovery:
    """Feed discovery for one URL; network trouble becomes BadInput."""
    found = discover_urls(settings, [url])[url]
    if isinstance(found, BadInput):
        raise found
    return found


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
        if kind not in (None, "rss"):
            raise BadInput(f"--google-news adds an rss source, not {kind}", hint="drop --kind")
        query = " ".join(locator.split()) or customer.name
        resolved = Resolved(
            "rss",
            google_news_feed(query, customer.language),
            title=f"Google News: {query}",
            message=f"added a Google News search for {query!r}",
        )
    else:
        if _is_url(locator.strip()) and kind in (None, *URL_KINDS):
            _refuse_duplicate(session, customer, check_source_url(settings, locator.strip()))  # before any fetch
        resolved = resolve_locator(settings, locator, kind)
    source = insert_source(session, customer, resolved)
    return AddedSource(source=source, message=resolved.message, alternatives=resolved.alternatives)


def _refuse_duplicate(session: Session, customer: Customer, url: str) -> None:
    existing = session.execute(
        select(Source.id, Source.kind).where(Source.customer_id == customer.id, Source.locator == url)
    ).first()
    if existing is not None:
        raise AlreadyExists(f"{customer.name} already has {existing.kind} source {url} (id {existing.id})")


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


def set_source_enabled(session: Session, source_id: int, enabled: bool, reason: str = "") -> Source:
    """Pause a source (kept with its posts, never polled) or resume it: polled at the next run, errors forgotten."""
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(f"no source with id {source_id}", hint="see `listener source list`")
    source.enabled = enabled
    if enabled:
        source.disabled_reason = ""
        source.error_count = 0
        source.last_error = ""
        source.failing_since = None
        source.next_poll_at = datetime.now(UTC)
    else:
        source.disabled_reason = reason.strip() or "disabled by hand (`listener source enable ID` resumes it)"
    session.flush()
    return source
