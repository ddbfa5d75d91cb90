"""Which links on a blog page point to articles: same site, article-like path, a readable title, not in the chrome."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from connectors.feedtext import canonical_url, one_line

MAX_LINKS = 100
MAX_ANCHORS = 5000  # links looked at, at most: a blog page has hundreds; a hostile one, millions
MAX_TEXT_NODES = 200  # nodes under a link or heading looked at for its title
MAX_PAGE_BYTES = 5_000_000  # blog pages weigh 50-500 kB; past this a page is refused rather than parsed
# Elements nested deeper than this are refused before parsing: real pages nest a few dozen levels, and the HTML
# parser's time grows with the square of the depth (30,000 nested <div>s: 2 s; 10 MB of nested <font>s: minutes).
MAX_DEPTH = 1000
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
# Elements without an end tag, or whose end tag pages leave out (the parser closes them): not counted as nesting.
_NOT_NESTING = frozenset(
    b"area base br col embed hr img input link meta source track wbr param keygen command basefont bgsound frame "
    b"p li dt dd td th tr tbody thead tfoot colgroup caption option optgroup rb rt rtc rp html head body".split()
)


class PageTooComplex(ValueError):
    """A page past the size or nesting caps: refused, not parsed."""


def check_page(body: bytes) -> None:
    """Raise PageTooComplex for a page larger than MAX_PAGE_BYTES or nested deeper than MAX_DEPTH."""
    if len(body) > MAX_PAGE_BYTES:
        raise PageTooComplex(f"page larger than {MAX_PAGE_BYTES // 1_000_000} MB: not parsed")
    depth = 0
    for match in _TAG.finditer(body):
        if match.group(3) or match.group(2).lower() in _NOT_NESTING:
            continue
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        if depth > MAX_DEPTH:
            raise PageTooComplex(f"page nested deeper than {MAX_DEPTH} elements: not parsed")


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


def _text_start(node: Node, limit: int = 300) -> str:
    """The first `limit` characters of the node's text, looking at no more than MAX_TEXT_NODES nodes under it.

    A link's whole text (selectolax's deep text) costs the size of everything under it: on a page that puts the
    rest of itself inside each link, that is quadratic.
    """
    parts: list[str] = []
    size = 0
    for seen, child in enumerate(node.traverse(include_text=True)):
        if seen >= MAX_TEXT_NODES or size >= limit:
            break
        if child.tag == "-text":
            text = child.text_content or ""
            parts.append(text)
            size += len(text)
    return " ".join(parts)


def _title(node: Node) -> str:
    text = one_line(_text_start(node), 300)
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
            return one_line(_text_start(headings[0]), 300)
        parent = parent.parent
    return ""


class _Ancestry:
    """What a node's ancestors say about its links, worked out once per node and remembered (mem_id -> answer).

    Asked per link, walking up to the root each time, a page of thousands of links nested thousands of levels deep
    cost seconds to minutes (quadratic); remembered, every node is looked at once.
    """

    def __init__(self, containers: set[int]) -> None:
        self._containers = containers
        self._chrome: dict[int, tuple[str, bool]] = {}
        self._contained: dict[int, bool] = {}

    def in_chrome(self, node: Node) -> bool:
        """Whether the link sits in navigation, a sidebar, a form, or the page's own header or footer."""
        parent = node.parent
        if parent is None:
            return False
        decided, edge = self._chrome_of(parent)
        return decided == "chrome" or (decided == "" and edge)

    def in_container(self, node: Node) -> bool:
        """Whether the node sits in one of the page's article containers (main, article, #content, ...)."""
        chain = []
        current: Node | None = node
        answer = False
        while current is not None:
            known = self._contained.get(current.mem_id)
            if known is not None:
                answer = known
                break
            if current.mem_id in self._containers:
                answer = True
                break
            chain.append(current.mem_id)
            current = current.parent
        for mem_id in chain:
            self._contained[mem_id] = answer
        return answer

    def _chrome_of(self, node: Node) -> tuple[str, bool]:
        """("chrome" | "article" | "", edge): the nearest deciding ancestor-or-self, and whether a page edge
        (header, footer) lies below it."""
        chain: list[tuple[int, str, bool]] = []  # (mem_id, decided by itself, is an edge), from the node upwards
        current: Node | None = node
        above: tuple[str, bool] = ("", False)
        while current is not None and current.tag not in ("body", "html", "-undef"):
            known = self._chrome.get(current.mem_id)
            if known is not None:
                above = known
                break
            role = (current.attributes.get("role") or "").lower()
            if current.tag in _CHROME_TAGS or role in _CHROME_ROLES:
                chain.append((current.mem_id, "chrome", False))
                break
            if current.tag == "article":
                chain.append((current.mem_id, "article", False))
                break
            chain.append((current.mem_id, "", current.tag in _EDGE_TAGS or role in _EDGE_ROLES))
            current = current.parent
        answer = above
        for mem_id, decided, edge in reversed(chain):
            answer = (decided, False) if decided else (answer[0], answer[1] or edge)
            self._chrome[mem_id] = answer
        return self._chrome[node.mem_id] if chain else above


def _page_itself(path: str, page_path: str) -> bool:
    """The page, another page of its listing (?page=2), or a section above it (/blog from /blog/news)."""
    path = path.rstrip("/") or "/"
    page_path = page_path.rstrip("/") or "/"
    return page_path == path or page_path.startswith(path + "/") or path == "/"


def article_links(body: bytes, page_url: str, content_type: str = "") -> list[tuple[str, str]]:
    """(canonical URL, title) of the article links on the page, in page order, without repeats.

    Raises PageTooComplex for a page past the size or nesting caps.
    """
    check_page(body)
    tree = HTMLParser(decode_html(body, content_type))
    base_node = tree.css_first("base[href]")
    base = canonical_url(base_node.attributes.get("href") or "", page_url) if base_node else ""
    base = base or page_url
    page = urlsplit(canonical_url(page_url))
    site = _site(page.hostname or "")
    containers = {c.mem_id for selector in _CONTAINERS for c in tree.css(selector)}
    ancestry = _Ancestry(containers)
    anchors = tree.css("a[href]")[:MAX_ANCHORS]
    if containers:
        inside = [a for a in anchors if ancestry.in_container(a)]
        anchors = inside or anchors
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
        if ancestry.in_chrome(anchor):
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
