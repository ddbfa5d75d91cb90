"""Which links on a blog page point to articles: same site, article-like path, a readable title."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from connectors.feedtext import canonical_url, one_line

MAX_LINKS = 100
_NOT_ARTICLE = re.compile(
    r"/(tag|tags|category|categories|author|authors|page|search|login|signin|signup|register|cart|account|feed|rss|"
    r"about|contact|privacy|terms|legal|cookies?|careers|jobs|wp-admin|wp-login\.php)(/|$)|"
    r"\.(css|js|png|jpe?g|gif|svg|webp|ico|pdf|zip|xml|json|mp[34])$",
    re.IGNORECASE,
)
_CONTAINERS = ("article", "main", "[role=main]", "#content", ".content", ".posts", ".blog")


def _site(host: str) -> str:
    return host.lower().removeprefix("www.")


def _title(node: Node) -> str:
    text = one_line(node.text(separator=" ", deep=True) or "", 300)
    return text or one_line(node.attributes.get("title") or "", 300)


def article_links(body: bytes, page_url: str) -> list[tuple[str, str]]:
    """(canonical URL, title) of the article links on the page, in page order, without repeats."""
    tree = HTMLParser(body.decode("utf-8", "replace"))
    base_node = tree.css_first("base[href]")
    base = canonical_url(base_node.attributes.get("href") or "", page_url) if base_node else ""
    base = base or page_url
    page = canonical_url(page_url)
    site = _site(urlsplit(page).hostname or "")
    anchors: list[Node] = []
    for selector in _CONTAINERS:
        for container in tree.css(selector):
            anchors.extend(container.css("a[href]"))
    if not anchors:
        anchors = tree.css("a[href]")
    found: dict[str, str] = {}
    for anchor in anchors:
        url = canonical_url(anchor.attributes.get("href") or "", base)
        if not url or url == page or url in found:
            continue
        parts = urlsplit(url)
        if _site(parts.hostname or "") != site or parts.path in ("", "/") or _NOT_ARTICLE.search(parts.path):
            continue
        title = _title(anchor)
        if len(title) < 4:
            continue
        found[url] = title
        if len(found) >= MAX_LINKS:
            break
    return list(found.items())
