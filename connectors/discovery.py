"""Finding the feed behind a homepage or profile URL: known profile patterns, <link rel=alternate>, usual paths."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from connectors.feedparse import parse_feed
from connectors.feedtext import canonical_url, one_line
from connectors.http import SafeFetcher
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
# WordPress, Ghost, Substack, Medium, Hugo, Jekyll, Blogger... tried in this order when a page declares no feed.
USUAL_PATHS = (
    "/feed",
    "/rss",
    "/feed.xml",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
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


def profile_feed(url: str) -> str | None:
    """The feed URL of a known network's profile page, or None when the URL is not one we know."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = [p for p in parts.path.split("/") if p]
    if host == "youtube.com" and len(path) >= 2 and path[0] == "channel":
        return f"https://www.youtube.com/feeds/videos.xml?channel_id={quote(path[1])}"
    if host == "youtube.com" and parts.path.startswith("/feeds/"):
        return None
    if host == "github.com" and len(path) >= 2:
        return f"https://github.com/{path[0]}/{path[1]}/releases.atom"
    if host == "medium.com" and path:
        if path[0] == "feed":
            return None
        return f"https://medium.com/feed/{path[0]}"
    if host.endswith(".medium.com") and not path:
        return f"https://{host}/feed"
    if host.endswith(".substack.com") and (not path or path[0] in ("p", "archive")):
        return f"https://{host}/feed"
    if host == "bsky.app" and len(path) >= 2 and path[0] == "profile":
        return f"https://bsky.app/profile/{path[1]}/rss"
    if len(path) == 1 and path[0].startswith("@") and len(path[0]) > 1 and not path[0].endswith(".rss"):
        # Mastodon (and other ActivityPub servers): https://instance/@user has https://instance/@user.rss
        return urlunsplit((parts.scheme, parts.netloc, f"/{path[0]}.rss", "", ""))
    return None


def google_news_feed(query: str, language: str = "en") -> str:
    """A Google News RSS search for the exact phrase, in the customer's language."""
    lang = (language or "en").lower()
    region = {"en": "US", "es": "ES", "pt": "BR", "fr": "FR", "de": "DE", "it": "IT"}.get(lang, lang.upper())
    return (
        f"https://news.google.com/rss/search?q={quote(chr(34) + query + chr(34))}"
        f"&hl={lang}-{region}&gl={region}&ceid={region}:{lang}"
    )


def looks_like_feed(body: bytes, url: str, content_type: str) -> bool:
    """Whether the bytes parse as a feed (RSS, Atom or JSON Feed)."""
    return not parse_feed(body, url, content_type).error


def alternate_links(html: bytes, page_url: str) -> tuple[list[Candidate], str]:
    """Feeds a page declares with <link rel="alternate">, resolved against <base href> if present, and its title."""
    tree = HTMLParser(html.decode("utf-8", "replace"))
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


async def discover(url: str, fetcher: SafeFetcher) -> Discovery:
    """Find the feeds of a URL that is a feed, a known profile, or an HTML page; FetchError if it cannot be read."""
    known = profile_feed(url)
    if known:
        try:
            response = await fetcher.get(known)
            if looks_like_feed(response.body, response.url, response.headers.get("content-type", "")):
                return Discovery(feeds=(Candidate(known),), notes=(f"{url} is a profile; its feed is {known}",))
        except FetchError:
            pass  # fall back to reading the page itself
    response = await fetcher.get(url)
    content_type = response.headers.get("content-type", "")
    parsed = parse_feed(response.body, response.url, content_type)
    if not parsed.error:
        return Discovery(feeds=(Candidate(response.permanent_url or url, parsed.title),), page_title=parsed.title)
    candidates, title = alternate_links(response.body, response.url)
    if candidates:
        return Discovery(feeds=tuple(candidates), page_title=title)
    parts = urlsplit(response.url)
    for path in USUAL_PATHS:
        probe = urlunsplit((parts.scheme, parts.netloc, path.split("?")[0], path.partition("?")[2], ""))
        try:
            answer = await fetcher.get(probe)
        except FetchError:
            continue
        if looks_like_feed(answer.body, answer.url, answer.headers.get("content-type", "")):
            return Discovery(feeds=(Candidate(probe),), page_title=title)
    return Discovery(page_title=title)
