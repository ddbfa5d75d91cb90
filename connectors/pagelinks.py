"""Which links on a blog page point to articles: same site, article-like path, a readable title, not in the chrome."""

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
# Navigation, site header/footer, sidebars and forms: their links are the site's chrome, not its articles.
_CHROME_TAGS = {"nav", "aside", "form", "menu"}
_CHROME_ROLES = {"navigation", "complementary", "search", "menu", "menubar"}
_EDGE_TAGS = {"header", "footer"}  # chrome at the page's edges, but an article's own header holds its title
_EDGE_ROLES = {"banner", "contentinfo"}
# Link texts that never title an article: the article's real title is elsewhere on the page.
_GENERIC = re.compile(
    r"^(read|continue|keep reading|more|read more|continue reading|full (story|article|post)|permalink|link|"
    r"leer m[aá]s|seguir leyendo|ver m[aá]s|leia mais|lire la suite|weiterlesen|\d+ (comments?|comentarios?))"
    r"\W*$",
    re.IGNORECASE,
)
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(body: bytes, content_type: str = "") -> str:
    """The page as text: the charset the server or the page declares, else UTF-8, else Windows-1252."""
    declared = re.search(r"charset=([A-Za-z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    meta = _CHARSET.search(body[:4096])
    for name in (declared.group(1) if declared else None, meta.group(1).decode("ascii") if meta else None):
        if name:
            try:
                return body.decode(name)
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


def _site(host: str) -> str:
    return host.lower().removeprefix("www.")


def _title(node: Node) -> str:
    text = one_line(node.text(separator=" ", deep=True) or "", 300)
    return text or one_line(node.attributes.get("title") or "", 300)


def _heading_near(node: Node) -> str:
    """The heading of the block a link sits in (for "Read more" links whose title is not a link)."""
    parent = node.parent
    for _ in range(4):
        if parent is None or parent.tag in ("body", "html"):
            return ""
        headings = parent.css("h1, h2, h3, h4")
        if len(headings) > 1:
            return ""  # a block of several posts: which heading is this link's is anyone's guess
        if headings:
            return one_line(headings[0].text(separator=" ", deep=True) or "", 300)
        parent = parent.parent
    return ""


def _in_chrome(node: Node) -> bool:
    """Whether the link sits in navigation, a sidebar, a form, or the page's own header or footer."""
    edge = False
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html", "-undef"):
        role = (parent.attributes.get("role") or "").lower()
        if parent.tag in _CHROME_TAGS or role in _CHROME_ROLES:
            return True
        if parent.tag == "article":
            return False
        edge = edge or parent.tag in _EDGE_TAGS or role in _EDGE_ROLES
        parent = parent.parent
    return edge


def _page_itself(path: str, page_path: str) -> bool:
    """The page, another page of its listing (?page=2), or a section above it (/blog from /blog/news)."""
    path = path.rstrip("/") or "/"
    page_path = page_path.rstrip("/") or "/"
    return page_path == path or page_path.startswith(path + "/") or path == "/"


def article_links(body: bytes, page_url: str, content_type: str = "") -> list[tuple[str, str]]:
    """(canonical URL, title) of the article links on the page, in page order, without repeats."""
    tree = HTMLParser(decode_html(body, content_type))
    base_node = tree.css_first("base[href]")
    base = canonical_url(base_node.attributes.get("href") or "", page_url) if base_node else ""
    base = base or page_url
    page = urlsplit(canonical_url(page_url))
    site = _site(page.hostname or "")
    in_containers = {a.mem_id for selector in _CONTAINERS for c in tree.css(selector) for a in c.css("a[href]")}
    anchors = [a for a in tree.css("a[href]") if not in_containers or a.mem_id in in_containers]
    found: dict[str, str] = {}
    for anchor in anchors:
        url = canonical_url(anchor.attributes.get("href") or "", base)
        if not url or (url in found and not _GENERIC.match(found[url])):
            continue
        parts = urlsplit(url)
        if (
            _site(parts.hostname or "") != site
            or _page_itself(parts.path, page.path)
            or _NOT_ARTICLE.search(parts.path)
        ):
            continue
        if _in_chrome(anchor):
            continue
        title = _title(anchor)
        if _GENERIC.match(title):
            title = _heading_near(anchor) or title
        if len(title) < 4 and url not in found:
            continue
        if url not in found or (len(title) >= 4 and not _GENERIC.match(title)):
            found[url] = title if len(title) >= 4 else found[url]
        if len(found) >= MAX_LINKS:
            break
    return [(url, title) for url, title in found.items() if not _GENERIC.match(title)]
