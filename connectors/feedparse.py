"""Feed bytes to normalized posts: RSS and Atom through feedparser, JSON Feed by hand. Runs in worker processes.

Every function here is pure and picklable-friendly: bytes in, a `ParsedFeed` out, errors returned as text.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import feedparser.api
from defusedxml import DefusedXmlException
from feedparser.encodings import convert_to_utf8
from feedparser.sanitizer import replace_doctype

from connectors import fastfeed, xmlguard
from connectors.feedtext import (
    canonical_url,
    clean_text,
    content_hash,
    html_to_text,
    one_line,
    outbound_url,
    sane_date,
    struct_to_datetime,
)
from listener.models import Post

MAX_ENTRIES = 500
# feedparser's strict parser is the SAX parser of the first of these modules that imports: ours refuses any DTD.
feedparser.api.PREFERRED_XML_PARSERS = ["connectors.xmlguard"]
_FEED_ROOT = re.compile(rb"<(?:[\w.-]+:)?(rss|feed|RDF|channel)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed document holds, or why it could not be read."""

    posts: tuple[Post, ...] = ()
    title: str = ""
    lang: str = ""
    link: str = ""
    error: str = ""  # non-empty: the document is not a usable feed


def parse_feed(
    body: bytes, url: str, content_type: str = "", now: datetime | None = None, *, fast: bool = True
) -> ParsedFeed:
    """Parse RSS, Atom or JSON Feed bytes served from `url`; never raises for bad input.

    `fast`: read ordinary RSS 2.0 and Atom 1.0 with connectors.fastfeed (same result, a fraction of the CPU);
    False: always feedparser (the equivalence test compares the two).
    """
    now = now or datetime.now(UTC)
    try:
        stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped[:1] == b"{" or "json" in content_type.lower():
            return _parse_json_feed(stripped, url, now)
        return _parse_xml_feed(body, url, content_type, now, fast)
    except (xmlguard.DTDRefused, DefusedXmlException):
        return ParsedFeed(error=xmlguard.DTD_REFUSED)
    except Exception as exc:  # a parser bug on hostile bytes must not take the run down
        return ParsedFeed(error=f"unreadable feed ({type(exc).__name__})")


def _parse_xml_feed(body: bytes, url: str, content_type: str, now: datetime, fast: bool = True) -> ParsedFeed:
    headers = {"content-type": content_type or "application/xml", "content-location": url}
    result: dict[str, Any] = {"bozo": False, "encoding": "", "headers": headers}
    utf8 = convert_to_utf8(dict(headers), body, result)
    clean = xmlguard.without_dtd(utf8)  # DTDRefused when it declares entities (or anything else)
    # The fast path only for a document feedparser's encoding rules found nothing odd in and that has no DTD.
    usual = not result.get("bozo") and clean is utf8
    usual = usual and fastfeed.encoding_agrees(body, content_type, result["encoding"])
    quick = fastfeed.parse(clean, url) if fast and usual else None
    if quick is not None:
        feed, entries, version = quick
    else:
        if replace_doctype(clean)[2]:
            # feedparser's own prolog rewrite would hand its loose parser entities to expand (declarations it finds
            # with a pattern, in a comment too): never.
            raise xmlguard.DTDRefused
        # A stream, never bytes or str: feedparser would take a str/bytes for a URL or a file name to open.
        parsed = feedparser.parse(
            io.BytesIO(clean),
            response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
            sanitize_html=False,  # we keep plain text only, through our own converter
            resolve_relative_uris=False,
        )
        feed = parsed.get("feed", {}) or {}
        entries = parsed.get("entries", []) or []
        version = parsed.get("version", "")
    if not entries and not version and not _FEED_ROOT.search(clean[:4096]):
        kind = "an HTML page" if b"<html" in clean[:4096].lower() else "not a feed"
        return ParsedFeed(error=f"the document is {kind} (no RSS, Atom or JSON Feed found)")
    lang = _lang(feed.get("language", ""))
    base = canonical_url(feed.get("link", ""), url) or url
    posts = tuple(p for p in (_entry_post(e, base, lang, now) for e in entries[:MAX_ENTRIES]) if p is not None)
    return ParsedFeed(posts=posts, title=one_line(html_to_text(feed.get("title", ""))), lang=lang, link=base)


def _entry_post(entry: Any, base: str, lang: str, now: datetime) -> Post | None:
    title = one_line(html_to_text(entry.get("title", "")), 1000)
    bodies = [c.get("value", "") for c in entry.get("content", []) or [] if isinstance(c, dict)]
    raw_text = max(bodies, key=len) if bodies else entry.get("summary", "") or entry.get("description", "")
    text = html_to_text(raw_text)
    raw_link = entry.get("link", "")
    link = canonical_url(raw_link, base)
    links = []
    replies = ""  # RFC 4685: the first rel="replies" link to an HTML page is where readers comment
    for item in entry.get("links", []) or []:
        if not isinstance(item, dict):
            continue
        if not replies and item.get("rel") == "replies" and _is_html_type(item.get("type")):
            replies = outbound_url(item.get("href", ""), base)
        raw_href = item.get("href", "")
        # the entry's own link is usually among its links: the same string, the same canonical form
        href = link if raw_href == raw_link and type(raw_href) is str else canonical_url(raw_href, base)
        if href and href != link and href not in links:
            links.append(href)
    published = sane_date(
        struct_to_datetime(
            _raw(entry, "published_parsed") or _raw(entry, "created_parsed") or _raw(entry, "updated_parsed")
        ),
        now,
    )
    updated = sane_date(struct_to_datetime(_raw(entry, "updated_parsed")), now)
    if not (title or text or link):
        return None
    entry_id = clean_text(str(entry.get("id", "") or ""), 1000)
    external_id = entry_id or link or "hash:" + content_hash(title, text)
    return Post(
        external_id=external_id,
        url=link,
        title=title,
        text=text,
        published_at=published,
        author=one_line(html_to_text(entry.get("author", "") or ""), 200),
        lang=_lang(entry.get("language", "")) or lang,
        source_kind="rss",
        links=tuple(links[:20]),
        updated_at=updated if updated and updated != published else None,
        # RSS 2.0 <comments> (feedparser keeps it resolved, as `comments`), else the Atom replies page
        comments_url=outbound_url(_text(entry.get("comments")), base) or replies,
    )


def _is_html_type(value: Any) -> bool:
    return isinstance(value, str) and value.split(";", 1)[0].strip().lower() == "text/html"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _parse_json_feed(data: bytes, url: str, now: datetime) -> ParsedFeed:
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return ParsedFeed(error="the document is not valid JSON")
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        return ParsedFeed(error="the JSON document is not a JSON Feed")
    base = canonical_url(str(doc.get("home_page_url", "") or ""), url) or url
    lang = _lang(str(doc.get("language", "") or ""))
    posts = []
    for item in (doc.get("items") or [])[:MAX_ENTRIES]:
        if isinstance(item, dict):
            post = _json_item_post(item, base, lang, now)
            if post is not None:
                posts.append(post)
    return ParsedFeed(posts=tuple(posts), title=one_line(str(doc.get("title", "") or "")), lang=lang, link=base)


def _json_item_post(item: dict[str, Any], base: str, lang: str, now: datetime) -> Post | None:
    title = one_line(html_to_text(str(item.get("title", "") or "")), 1000)
    text = html_to_text(str(item.get("content_html") or "")) or clean_text(str(item.get("content_text") or ""))
    text = text or clean_text(str(item.get("summary") or ""))
    link = canonical_url(str(item.get("url", "") or ""), base)
    if not (title or text or link):
        return None
    published = sane_date(_iso(item.get("date_published")), now)
    updated = sane_date(_iso(item.get("date_modified")), now)
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    author = ", ".join(str(a.get("name", "")) for a in authors if isinstance(a, dict) and a.get("name"))
    external = clean_text(str(item.get("id", "") or ""), 1000)
    extra = canonical_url(str(item.get("external_url", "") or ""), base)
    return Post(
        external_id=external or link or "hash:" + content_hash(title, text),
        url=link,
        title=title,
        text=text,
        published_at=published or updated,
        author=one_line(author, 200),
        lang=_lang(str(item.get("language", "") or "")) or lang,
        source_kind="rss",
        links=(extra,) if extra and extra != link else (),
        updated_at=updated if updated and updated != published else None,
    )


def _raw(entry: Any, key: str) -> Any:
    # Plain dict access: feedparser's own .get() maps updated<->published with a deprecation warning.
    return dict.get(entry, key) if isinstance(entry, dict) else None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _lang(value: str) -> str:
    match = re.match(r"\s*([A-Za-z]{2})(?:$|[-_\s])", value or "")
    return match.group(1).lower() if match else ""
