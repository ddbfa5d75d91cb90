"""Finding the feed behind a homepage or profile URL: known profile patterns, <link rel=alternate>, usual paths."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from connectors.feedparse import parse_feed
from connectors.feedtext import canonical_url, one_line
from connectors.http import SafeFetcher
from connectors.pagelinks import PageTooComplex, check_page, decode_html
from connectors.xmlguard import DTD_REFUSED
from listener.errors import FetchError

FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
}
# WordPress (/feed/), Ghost (/rss/), Substack (/feed), Jekyll, Hugo (/index.xml), JSON Feed, Blogger...: tried when a
# page declares no feed; the first that answers with a feed, in this order, wins.
USUAL_PATHS = (
    "/feed",
    "/feed/",
    "/rss",
    "/rss/",
    "/feed.xml",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
    "/atom",
    "/feeds/posts/default",
    "/?feed=rss2",
)
_FEEDISH = re.compile(r"(?i)(/feed|/rss|atom|\.xml$|feeds?/)")


@dataclass(frozen=True)
class Candidate:
    url: str
    title: str = ""


@dataclass(frozen=True)
class Discovery:
    """The feeds found for a URL, main one first; empty when none."""

    feeds: tuple[Candidate, ...] = ()
    page_title: str = ""
    notes: tuple[str, ...] = field(default=())


_YOUTUBE_HOSTS = {"youtube.com", "m.youtube.com"}
_YOUTUBE_CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")
_YOUTUBE_ID_PATTERNS = (
    re.compile(rb'<meta[^>]+itemprop="(?:channelId|identifier)"[^>]+content="(UC[0-9A-Za-z_-]{22})"'),
    re.compile(rb'<link[^>]+rel="canonical"[^>]+href="https://www\.youtube\.com/channel/(UC[0-9A-Za-z_-]{22})"'),
    re.compile(rb'"(?:externalId|channelId|browseId)"\s*:\s*"(UC[0-9A-Za-z_-]{22})"'),
    re.compile(rb"feeds/videos\.xml\?channel_id=(UC[0-9A-Za-z_-]{22})"),
)
# Hosts whose /@name pages are not Mastodon-style profiles with an /@name.rss feed.
_NOT_FEDIVERSE = _YOUTUBE_HOSTS | {
    "medium.com",
    "substack.com",
    "tiktok.com",
    "threads.net",
    "threads.com",
    "instagram.com",
    "x.com",
    "twitter.com",
    "facebook.com",
    "linkedin.com",
}
# github.com/<these>/... are site pages, not owner/repo.
_GITHUB_RESERVED = {
    "about",
    "apps",
    "collections",
    "enterprise",
    "explore",
    "features",
    "login",
    "marketplace",
    "orgs",
    "pricing",
    "search",
    "settings",
    "sponsors",
    "topics",
    "trending",
}
_FEED_SUFFIXES = (".rss", ".atom", ".xml", ".json")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def youtube_feed(channel_id: str) -> str:
    """The uploads feed of a YouTube channel."""
    return f"https://www.youtube.com/feeds/videos.xml?channel_id={quote(channel_id)}"


def is_youtube_page(url: str) -> bool:
    """Whether the URL is a YouTube page (a @handle, /c/ or custom URL) whose channel id must be read from its HTML."""
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    return _host(url) in _YOUTUBE_HOSTS and bool(path) and path[0] not in ("channel", "feeds", "user", "playlist")


def youtube_channel_id(html: bytes) -> str | None:
    """The channel id (UC + 22 characters) a YouTube channel page declares, or None."""
    for pattern in _YOUTUBE_ID_PATTERNS:
        match = pattern.search(html)
        if match:
            return match.group(1).decode("ascii")
    return None


def profile_feed(url: str) -> str | None:
    """The feed URL of a known network's profile page, or None when the URL is not one we know (no network)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = _host(url)
    path = [p for p in parts.path.split("/") if p]
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if path and path[-1].lower().endswith(_FEED_SUFFIXES):
        return None  # already a feed (an @user.rss, a releases.atom...)
    if host in _YOUTUBE_HOSTS:
        query = dict(parse_qsl(parts.query))
        if len(path) >= 2 and path[0] == "channel" and _YOUTUBE_CHANNEL_ID.fullmatch(path[1]):
            return youtube_feed(path[1])
        if len(path) >= 2 and path[0] == "user":
            return f"https://www.youtube.com/feeds/videos.xml?user={quote(path[1])}"
        if path[:1] == ["playlist"] and query.get("list"):
            return f"https://www.youtube.com/feeds/videos.xml?playlist_id={quote(query['list'])}"
        return None  # @handle and custom URLs: the channel id is in the page (see discover)
    if host == "github.com" and len(path) >= 2 and path[0].lower() not in _GITHUB_RESERVED:
        repo = path[1].removesuffix(".git")
        return f"https://github.com/{path[0]}/{repo}/releases.atom"
    if host == "medium.com" and path:
        if path[0] in ("feed", "p", "m", "me", "search"):
            return None
        if path[0] == "tag" and len(path) >= 2:
            return f"https://medium.com/feed/tag/{path[1]}"
        return f"https://medium.com/feed/{path[0]}"
    if host.endswith(".medium.com"):
        return f"https://{host}/feed"
    if host.endswith(".substack.com") and host != "www.substack.com":
        return f"https://{host}/feed"
    if host == "bsky.app" and len(path) >= 2 and path[0] == "profile":
        return f"https://bsky.app/profile/{path[1]}/rss"
    if host not in _NOT_FEDIVERSE and len(path) == 1 and path[0].startswith("@") and len(path[0]) > 1:
        # Mastodon (and other ActivityPub servers): https://instance/@user has https://instance/@user.rss;
        # https://instance/@user@other.host is a remote account whose feed lives on its own server.
        user, _, home = path[0][1:].partition("@")
        if not user:
            return None
        netloc = home.lower() if home else parts.netloc
        scheme = "https" if home else parts.scheme.lower()
        return urlunsplit((scheme, netloc, f"/@{user}.rss", "", ""))
    return None


def google_news_feed(query: str, language: str = "en") -> str:
    """A Google News RSS search for the exact phrase, in the customer's language."""
    lang = (language or "en").lower()
    region = {"en": "US", "es": "ES", "pt": "BR", "fr": "FR", "de": "DE", "it": "IT"}.get(lang, lang.upper())
    return (
        f"https://news.google.com/rss/search?q={quote(chr(34) + query + chr(34))}"
        f"&hl={lang}-{region}&gl={region}&ceid={region}:{lang}"
    )


def alternate_links(html: bytes, page_url: str, content_type: str = "") -> tuple[list[Candidate], str]:
    """Feeds a page declares with <link rel="alternate">, resolved against <base href> if present, and its title.

    Raises PageTooComplex for a page past the page watcher's size or nesting caps (pagelinks.check_page).
    """
    check_page(html)
    tree = HTMLParser(decode_html(html, content_type))
    base_node = tree.css_first("base[href]")
    base = canonical_url(base_node.attributes.get("href") or "", page_url) if base_node else ""
    base = base or page_url
    found: dict[str, Candidate] = {}
    for node in tree.css("link[href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        kind = (node.attributes.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rel or (
            kind not in FEED_TYPES and not (not kind and _FEEDISH.search(node.attributes.get("href") or ""))
        ):
            continue
        if kind in ("application/json", "application/xml", "text/xml") and not _FEEDISH.search(
            node.attributes.get("href") or ""
        ):
            continue
        url = canonical_url(node.attributes.get("href") or "", base)
        if url and url not in found:
            found[url] = Candidate(url, one_line(node.attributes.get("title") or "", 200))
    title_node = tree.css_first("title")
    title = one_line(title_node.text() if title_node else "", 200)
    return _main_first(list(found.values()), page_url), title


def _main_first(candidates: list[Candidate], page_url: str) -> list[Candidate]:
    """The main feed first: comment feeds last, same site before others, otherwise page order."""
    host = (urlsplit(page_url).hostname or "").removeprefix("www.")

    def rank(item: tuple[int, Candidate]) -> tuple[int, int, int]:
        index, cand = item
        comments = "comment" in (cand.url + " " + cand.title).lower()
        other_site = (urlsplit(cand.url).hostname or "").removeprefix("www.") != host
        return (int(comments), int(other_site), index)

    return [cand for _, cand in sorted(enumerate(candidates), key=rank)]


async def _feed_at(fetcher: SafeFetcher, url: str) -> Candidate | None:
    """The URL as a candidate if it answers with a feed (where permanent redirects lead), else None."""
    try:
        response = await fetcher.get(url)
    except FetchError:
        return None
    parsed = parse_feed(response.body, response.url, response.headers.get("content-type", ""))
    return None if parsed.error else Candidate(response.permanent_url or url, parsed.title)


def usual_feed_urls(page_url: str) -> list[str]:
    """Where blogs usually keep their feed: under the page's own path first (a blog in /blog/), then the site root."""
    parts = urlsplit(page_url)
    prefixes = ["/"]
    directory = parts.path.rstrip("/")
    if directory and not directory.endswith((".html", ".htm", ".php")):
        prefixes.insert(0, directory + "/")
    urls: list[str] = []
    for prefix in prefixes:
        for path in USUAL_PATHS:
            route, _, query = path.partition("?")
            url = urlunsplit((parts.scheme, parts.netloc, prefix + route.lstrip("/"), query, ""))
            if url not in urls:
                urls.append(url)
    return urls


async def discover(url: str, fetcher: SafeFetcher) -> Discovery:
    """Find the feeds of a URL that is a feed, a known profile, or an HTML page; FetchError if it cannot be read."""
    known = profile_feed(url)
    if known:
        found = await _feed_at(fetcher, known)
        if found:
            return Discovery(
                feeds=(found,), page_title=found.title, notes=(f"{url} is a profile; its feed is {known}",)
            )
    response = await fetcher.get(url)
    content_type = response.headers.get("content-type", "")
    parsed = parse_feed(response.body, response.url, content_type)
    if not parsed.error:
        return Discovery(feeds=(Candidate(response.permanent_url or url, parsed.title),), page_title=parsed.title)
    if parsed.error == DTD_REFUSED:
        # a feed, but one that no poll would read: say so, rather than look for its feed in it as in a page
        raise FetchError(DTD_REFUSED)
    try:
        candidates, title = alternate_links(response.body, response.url, content_type)
    except PageTooComplex as exc:
        raise FetchError(f"{url}: {exc}") from None
    if is_youtube_page(url):
        channel = youtube_channel_id(response.body)
        if channel:
            main = Candidate(youtube_feed(channel), title)
            others = [c for c in candidates if c.url != main.url]
            return Discovery(feeds=(main, *others), page_title=title, notes=(f"{url} is YouTube channel {channel}",))
    if candidates:
        return Discovery(feeds=tuple(candidates), page_title=title)
    answer = await _probe_usual_paths(fetcher, response.url)
    if answer is not None:
        return Discovery(feeds=(answer,), page_title=title, notes=(f"{url} declares no feed; found {answer.url}",))
    return Discovery(page_title=title)


async def _probe_usual_paths(fetcher: SafeFetcher, page_url: str) -> Candidate | None:
    """The first usual path, in order, that answers with a feed within one fetch's time limit."""
    # Probed together (the fetcher's per-host limit keeps this polite), so a slow site costs one time limit, not 24.
    tasks = [asyncio.create_task(_feed_at(fetcher, probe)) for probe in usual_feed_urls(page_url)]
    try:
        await asyncio.wait(tasks, timeout=fetcher.settings.total_timeout)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is None and task.result() is not None:
            return task.result()
    return None
