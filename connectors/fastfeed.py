"""A fast path for ordinary RSS 2.0 and Atom 1.0 documents: the same intermediate feedparser gives, at a fraction
of its CPU.

feedparser's SAX handlers cost 6-14 ms of CPU for a 20-item feed; parsing with expat into an ElementTree and reading
the few fields `connectors.feedparse` uses costs well under one. The fast path accepts only what is unambiguous and
returns None for everything else, so that feedparser (20 years of rules for odd feeds) stays the fallback:

- bytes that expat parses with no DTD at all (defusedxml forbids DOCTYPE and entity declarations);
- a root `rss` of version 2.x (or none) holding one `channel`, or an Atom 1.0 `feed`;
- no `xml:base` (or `base`) attribute anywhere: links and permalink guids resolve against the feed URL only;
- for every element it reads (titles, links, guids, descriptions, content, dates, authors, languages, comments):
  plain text, no child elements, no `type`/`mode` surprises (Atom text and html only; xhtml, base64 and `src`
  fall back);
- every other element is one feedparser ignores for these fields (no handler of its own, or one known harmless),
  checked with its descendants; anything else (itunes, media groups, Atom `source`, duplicates of a field whose
  order feedparser decides in its own way) falls back.

The values reproduce feedparser's own processing of the strict (SAX) parser with `resolve_relative_uris=False`:
whitespace stripped, `link` and permalink `id` joined to the base URI with feedparser's `_urljoin`, the
double-encoded-UTF-8 repair and the cp1252 mapping, the `&amp;` repairs on links, the guid-as-link rule, authors
through `_sync_author_detail`'s rules, dates through feedparser's own `_parse_date`.
The equivalence test (tests/test_fastfeed.py) checks this on feedparser's corpus.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import re
import urllib.parse
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin

ATOM = "http://www.w3.org/2005/Atom"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_NAMESPACES = {k.lower(): v for k, v in _FeedParserMixin.namespaces.items()}
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_DECLARED = re.compile(rb"""\s*<\?xml\s[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""")
_CANONICAL = frozenset(_NAMESPACES.values())
_XMLNS = re.compile(rb"""xmlns:([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)
_HTML_TYPES = {"application/xhtml+xml", "text/html"}
# An absolute http(s) URL that feedparser's _urljoin returns as it is, whatever the (parsable) base: lower-case
# scheme, no extra slashes, a plain host (and port), a path without parameters (";"), a query and a fragment that are
# not empty when present (urljoin drops an empty "?" or "#").
_PLAIN_ABSOLUTE = re.compile(
    r"https?://[A-Za-z0-9.-]++(?::[0-9]++)?+(?:/[A-Za-z0-9\-._~!$&'()*+,=:@%/]*+)?+"
    r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]++)?+(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]++)?+",
    re.ASCII,
)
_CP1252_KEYS = re.compile("[" + "".join(map(chr, sorted(_cp1252))) + "]")
# The keys connectors.feedparse reads: an unhandled element stored under one of these names would change a post.
_OUR_KEYS = frozenset(
    [
        "title",
        "content",
        "summary",
        "description",
        "subtitle",
        "link",
        "links",
        "id",
        "author",
        "language",
        "comments",
        "published_parsed",
        "created_parsed",
        "updated_parsed",
    ]
)
_DATES = {
    "pubdate": "published_parsed",
    "published": "published_parsed",
    "issued": "published_parsed",
    "dcterms_issued": "published_parsed",
    "updated": "updated_parsed",
    "modified": "updated_parsed",
    "lastbuilddate": "updated_parsed",
    "dc_date": "updated_parsed",
    "dcterms_modified": "updated_parsed",
    "created": "created_parsed",
    "dcterms_created": "created_parsed",
}
# Elements with a feedparser handler that touches none of the fields we read (as leaves).
_HARMLESS_ITEM = frozenset({"category", "dc_subject", "media_content", "media_thumbnail", "rights", "copyright"})
# Channel/feed-level elements that may hold anything except what changes the feed's title, link or language.
_CHANNEL_DANGEROUS = frozenset(
    {
        "title",
        "dc_title",
        "media_title",
        "link",
        "language",
        "dc_language",
        "item",
        "entry",
        "channel",
        "feed",
        "guid",
        "id",
        "rss",
        "image",
        "textinput",
        "source",
        "content",
        "body",
        "xhtml_body",
        "fullitem",
        "content_encoded",
    }
)
_ITEM_FIELDS = {"dc_title": "title", "dc_description": "description", "id": "guid", "dc_language": "language"}
_IMAGE_CHILDREN = frozenset({"title", "link", "description", "url", "href", "width", "height"})
_TEXTINPUT_CHILDREN = frozenset({"title", "link", "description", "name"})
_handler_cache: dict[str, bool] = {}


class Unsupported(Exception):
    """The document is not one the fast path reads exactly like feedparser: use feedparser."""


def parse(data: bytes, url: str) -> tuple[dict[str, Any], list[dict[str, Any]], str] | None:
    """(feed, entries, version) as feedparser would give them for these UTF-8 bytes served from `url`, or None.

    `data` is what feedparser would be handed: UTF-8, its declaration saying so, no DOCTYPE.
    """
    try:
        return _Reader(data, url).read()
    except Exception:  # Unsupported, a parse error, a DTD, anything odd: feedparser decides
        return None


def encoding_agrees(body: bytes, content_type: str, detected: str) -> bool:
    """Whether the bytes' encoding is beyond doubt: no UTF-16/32 BOM, the HTTP charset (if any) and the XML
    declaration (if any) name the same encoding as the one feedparser's rules chose, and a document without a
    declaration is UTF-8."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:
        return False
    names = [detected]
    match = _CHARSET.search(content_type)
    if match:
        names.append(match.group(1))
    declared = _DECLARED.match(body[3:] if body[:3] == b"\xef\xbb\xbf" else body)
    if declared:
        names.append(declared.group(1).decode("ascii"))
    elif body[:3] == b"\xef\xbb\xbf":
        names.append("utf-8")
    else:
        names.append("utf-8")  # no declaration: XML says UTF-8; anything else is a guess feedparser should make
    try:
        found = {codecs.lookup(name.strip()).name for name in names}
    except LookupError:
        return False
    if "ascii" in found and body.isascii():  # text/xml without a charset is US-ASCII; for ASCII bytes, UTF-8 alike
        found = (found - {"ascii"}) | {"utf-8"}
    return len(found) == 1


def _has_handler(name: str) -> bool:
    known = _handler_cache.get(name)
    if known is None:
        known = hasattr(StrictFeedParser, "_start_" + name) or hasattr(StrictFeedParser, "_end_" + name)
        _handler_cache[name] = known
    return known


def _finish(text: str | None, base: str | None = None) -> str:
    """feedparser's `pop` for a text element: strip, resolve (links, permalink ids), repair, map cp1252."""
    out = (text or "").strip()
    if base is not None and out and not (_PLAIN_ABSOLUTE.fullmatch(out) and _base_parses(base)):
        out = _urljoin(base, out)
    if out.isascii():  # the repairs below change only non-ASCII text
        return out
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        out = out.encode("iso-8859-1").decode("utf-8")
    return out.translate(_cp1252) if _CP1252_KEYS.search(out) else out


@functools.lru_cache(maxsize=16)
def _base_parses(base: str) -> bool:
    """Whether urljoin parses this base URL (else feedparser's _urljoin gives "" for every URI)."""
    try:
        urllib.parse.urlparse(base)
    except Exception:
        return False
    return True


def _content_type(value: str) -> str:
    value = value.lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}.get(
        value, value
    )


class _Reader:
    def __init__(self, data: bytes, url: str) -> None:
        self.data = data
        self.base = url
        self.prefixes: dict[str, str] = {}  # namespace URI (lower) -> the document's prefix, for unknown namespaces
        self.names: dict[str, str] = {}  # tag -> name(), which depends on the tag and self.prefixes alone
        bound: dict[str, str] = {}
        for match in _XMLNS.finditer(data):
            prefix = match.group(1).decode("ascii")
            uri = (match.group(2) or match.group(3) or b"").decode("utf-8").lower()
            if bound.setdefault(prefix, uri) != uri or self.prefixes.setdefault(uri, prefix) != prefix:
                raise Unsupported("a prefix bound twice, or a namespace with several prefixes")
            known = _NAMESPACES.get(uri)
            if known is not None and known != prefix and prefix in _CANONICAL:
                # feedparser would rename elements of the namespace whose canonical prefix this is (its namespacemap)
                raise Unsupported("a canonical prefix bound to another known namespace")

    # ------------------------------------------------------------------ names and shapes

    def name(self, el: Element) -> str:
        """The name feedparser dispatches on: `prefix_local` (canonical prefix), lower case."""
        tag = el.tag
        known = self.names.get(tag)
        if known is not None:
            return known
        if not isinstance(tag, str):
            raise Unsupported("not an element")
        if tag[:1] == "{":
            uri, local = tag[1:].split("}", 1)
            lower = uri.lower()
            if "backend.userland.com/rss" in lower:
                lower = "http://backend.userland.com/rss"
            prefix = _NAMESPACES.get(lower)
            if prefix is None:
                prefix = self.prefixes.get(lower)
                if not prefix:
                    raise Unsupported("an unknown default namespace")
        else:
            prefix, local = "", tag
        local = local.lower()
        name = self.names[tag] = f"{prefix}_{local}" if prefix else local
        return name

    @staticmethod
    def check_attrs(el: Element, allowed: frozenset[str] = frozenset()) -> dict[str, str]:
        """The attributes as feedparser sees them (names in lower case); raise on any other than `allowed`."""
        attrs: dict[str, str] = {}
        for key, value in el.attrib.items():
            if key.startswith("{"):
                if key == f"{{{_XML_NS}}}lang":
                    continue
                raise Unsupported("a namespaced attribute")
            lower = key.lower()
            if lower not in allowed or lower in attrs:
                raise Unsupported(f"attribute {key}")
            attrs[lower] = value
        return attrs

    @staticmethod
    def leaf(el: Element) -> str:
        if len(el):
            raise Unsupported("child elements where text is read")
        return el.text or ""

    def ignorable(self, el: Element) -> None:
        """Raise unless feedparser stores nothing we read from this element and its descendants."""
        name = self.name(el)
        if name in _OUR_KEYS or _has_handler(name):
            raise Unsupported(f"element {name}")
        for child in el:
            self.ignorable(child)

    def channel_safe(self, el: Element) -> None:
        """Raise if this feed-level element (or a descendant) could change the feed's title, link or language."""
        if self.name(el) in _CHANNEL_DANGEROUS:
            raise Unsupported("a nested feed-level field")
        for child in el:
            self.channel_safe(child)

    # ------------------------------------------------------------------ documents

    def read(self) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
        root = SafeET.fromstring(self.data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        for el in root.iter():
            for key in el.attrib:
                local = key.rsplit("}", 1)[-1].lower()
                if local == "base":
                    raise Unsupported("xml:base")
        feed: dict[str, Any] = {}
        root_attrs = self.check_attrs(root, frozenset({"version", "lang"}))
        lang = root.get(f"{{{_XML_NS}}}lang", root_attrs.get("lang"))
        if lang:
            feed["language"] = lang.replace("_", "-")
        if root.tag == "rss":
            version = root_attrs.get("version")
            if version is not None and not version.startswith("2."):
                raise Unsupported("not RSS 2")
            if len(root) != 1 or root[0].tag != "channel":
                raise Unsupported("not one channel")
            entries = self.rss_channel(root[0], feed)
            return feed, entries, "rss20"
        if root.tag == f"{{{ATOM}}}feed" and "version" not in root_attrs:
            entries = self.atom_feed(root, feed)
            return feed, entries, "atom10"
        raise Unsupported("not RSS 2 or Atom 1")

    def feed_link(self, el: Element, feed: dict[str, Any], rss: bool) -> None:
        if rss and not el.attrib and el.tag == "link":
            value = _finish(self.leaf(el), self.base)
            feed["link"] = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value)
            return
        attrs = self.link_attrs(el)
        if attrs is None:
            raise Unsupported("a link without href")
        if attrs.get("rel") == "alternate" and _content_type(attrs.get("type") or "") in _HTML_TYPES:
            feed["link"] = attrs["href"]

    def link_attrs(self, el: Element) -> dict[str, str] | None:
        """feedparser's `_start_link` for a link with attributes: the attributes, href resolved; None without href."""
        attrs = self.check_attrs(el, frozenset({"rel", "type", "href", "hreflang", "title", "length"}))
        if len(el) or (el.text or "").strip():
            raise Unsupported("a link with content")
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        if not attrs.get("href"):
            return None
        attrs["href"] = _urljoin(self.base or "", attrs["href"])
        return attrs

    def rss_channel(self, channel: Element, feed: dict[str, Any]) -> list[dict[str, Any]]:
        self.check_attrs(channel)
        entries = []
        seen_title = False
        for el in channel:
            name = self.name(el)
            if name == "item":
                entries.append(self.rss_item(el))
            elif name in ("title", "dc_title"):
                if seen_title:
                    raise Unsupported("two feed titles")
                seen_title = True
                self.check_attrs(el)
                feed["title"] = _finish(self.leaf(el))
            elif name == "link":
                self.feed_link(el, feed, rss=el.tag == "link")
            elif name in ("language", "dc_language"):
                self.check_attrs(el)
                feed["language"] = _finish(self.leaf(el))
            elif name in ("guid", "id"):
                permalink = self.check_attrs(el, frozenset({"ispermalink"})).get("ispermalink", "true")
                self.guid(el, feed, permalink == "true")
            elif name in ("image", "textinput"):
                allowed = _IMAGE_CHILDREN if name == "image" else _TEXTINPUT_CHILDREN
                for child in el:
                    if child.tag not in allowed or len(child):
                        raise Unsupported("an odd image or textInput")
            else:
                self.channel_safe(el)
        return entries

    def rss_item(self, item: Element) -> dict[str, Any]:
        self.check_attrs(item)
        entry: dict[str, Any] = {}
        seen: set[str] = set()
        for el in item:
            name = self.name(el)
            field = _ITEM_FIELDS.get(name, name)
            if field in ("title", "description", "guid", "language", "comments"):
                if field in seen:
                    raise Unsupported(f"two {field}s")
                seen.add(field)
            if field == "title":
                self.check_attrs(el)
                entry["title"] = _finish(self.leaf(el))
            elif field == "description":
                self.check_attrs(el)
                entry["summary"] = _finish(self.leaf(el))
            elif name == "content_encoded":
                self.check_attrs(el)
                entry.setdefault("content", []).append({"value": _finish(self.leaf(el))})
                entry.setdefault("summary", entry["content"][-1]["value"])
            elif name == "link":
                self.entry_link(el, entry, rss=el.tag == "link")
            elif field == "guid":
                permalink = self.check_attrs(el, frozenset({"ispermalink"})).get("ispermalink", "true")
                self.guid(el, entry, permalink == "true")
            elif name in _DATES:
                self.check_attrs(el)
                entry[_DATES[name]] = _parse_date(_finish(self.leaf(el)))
            elif name in ("author", "dc_creator", "dc_author"):
                self.check_attrs(el)
                entry["author"] = _finish(self.leaf(el))
            elif field == "language":
                self.check_attrs(el)
                entry["language"] = _finish(self.leaf(el))
            elif name == "comments":  # no handler in feedparser: stored as text, resolved (can_be_relative_uri)
                self.check_attrs(el)
                entry["comments"] = _finish(self.leaf(el), self.base)
            elif name == "enclosure":
                self.leaf(el)
                self.enclosure(el, entry)
            elif name == "source" or name in _HARMLESS_ITEM:
                self.leaf(el)
            else:
                self.ignorable(el)
        return entry

    def guid(self, el: Element, entry: dict[str, Any], is_link: bool) -> None:
        """feedparser's guid/id: the value (resolved when a permalink), and the link unless one came first."""
        value = _finish(self.leaf(el), self.base if is_link else None)
        entry["id"] = value
        if is_link:
            entry.setdefault("link", value)

    def entry_link(self, el: Element, entry: dict[str, Any], rss: bool) -> None:
        links = entry.setdefault("links", [])
        if rss and not el.attrib:
            value = _finish(self.leaf(el), self.base)
            value = value.replace("&amp;", "&")
            value = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value)
            entry["link"] = value
            links.append({"href": value} if value else {})
            return
        attrs = self.link_attrs(el)
        if attrs is None:
            raise Unsupported("a link without href")
        links.append({"href": attrs["href"], "rel": attrs["rel"], "type": attrs["type"]})
        if attrs.get("rel") == "alternate" and _content_type(attrs.get("type") or "") in _HTML_TYPES:
            entry["link"] = attrs["href"]

    @staticmethod
    def enclosure(el: Element, entry: dict[str, Any]) -> None:
        attrs = _Reader.check_attrs(el, frozenset({"url", "uri", "href", "length", "type"}))
        # feedparser's _enforce_href: url, else uri, else href; the href is not resolved.
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            attrs.pop("url", None)
            attrs.pop("uri", None)
            attrs["href"] = href
        entry.setdefault("links", []).append({"href": attrs["href"]} if "href" in attrs else {})

    def atom_feed(self, root: Element, feed: dict[str, Any]) -> list[dict[str, Any]]:
        entries = []
        seen_title = False
        for el in root:
            name = self.name(el)
            if el.tag == f"{{{ATOM}}}entry":
                entries.append(self.atom_entry(el))
            elif el.tag == f"{{{ATOM}}}title":
                if seen_title:
                    raise Unsupported("two feed titles")
                seen_title = True
                feed["title"] = self.atom_text(el)
            elif el.tag == f"{{{ATOM}}}link":
                self.feed_link(el, feed, rss=False)
            elif el.tag == f"{{{ATOM}}}id":
                self.check_attrs(el)
                self.guid(el, feed, True)  # feedparser: a feed's id is its link when it has no alternate link
            elif name in ("language", "dc_language", "dc_title", "title", "link"):
                raise Unsupported("a feed-level field in another namespace")
            else:
                self.channel_safe(el)
        return entries

    def atom_text(self, el: Element) -> str:
        """An Atom text construct of type text or html, as feedparser's pop gives it."""
        kind = _content_type(self.check_attrs(el, frozenset({"type"})).get("type", "text"))
        if kind not in ("text/plain", "text/html"):
            raise Unsupported("an Atom text construct that is not text or html")
        return _finish(self.leaf(el))

    def atom_entry(self, entry_el: Element) -> dict[str, Any]:
        self.check_attrs(entry_el)
        entry: dict[str, Any] = {}
        seen: set[str] = set()
        for el in entry_el:
            tag = el.tag
            if isinstance(tag, str) and tag.startswith(f"{{{ATOM}}}"):
                local = tag[len(ATOM) + 2 :]
                if local in ("id", "title", "summary", "author", "source"):
                    if local in seen or local == "source":
                        raise Unsupported(f"Atom {local}")
                    seen.add(local)
                if local == "id":
                    self.check_attrs(el)
                    self.guid(el, entry, True)
                elif local == "title":
                    entry["title"] = self.atom_text(el)
                elif local == "summary":
                    entry["summary"] = self.atom_text(el)
                elif local == "content":
                    value = self.atom_text(el)
                    entry.setdefault("content", []).append({"value": value})
                    entry.setdefault("summary", value)
                elif local == "link":
                    self.entry_link(el, entry, rss=False)
                elif local in ("published", "updated"):
                    self.check_attrs(el)
                    entry[_DATES[local]] = _parse_date(_finish(self.leaf(el)))
                elif local == "author":
                    self.atom_author(el, entry)
                elif local == "contributor":
                    self.atom_person(el)
                elif local in ("category", "rights"):
                    self.leaf(el)
                else:
                    raise Unsupported(f"Atom {local}")
            else:
                self.ignorable(el)
        return entry

    def atom_person(self, el: Element) -> dict[str, str]:
        self.check_attrs(el)
        detail: dict[str, str] = {}
        for child in el:
            if child.tag not in (f"{{{ATOM}}}name", f"{{{ATOM}}}email", f"{{{ATOM}}}uri") or len(child):
                raise Unsupported("an odd Atom person")
            local = child.tag[len(ATOM) + 2 :]
            text = (child.text or "").strip()  # name and email: feedparser pops them without the text repairs
            detail["href" if local == "uri" else local] = _finish(child.text, self.base) if local == "uri" else text
        return detail

    def atom_author(self, el: Element, entry: dict[str, Any]) -> None:
        detail = self.atom_person(el)
        # the author element's own text (whitespace between the children), then _sync_author_detail's rules
        own = (el.text or "") + "".join(child.tail or "" for child in el)
        entry["author"] = _finish(own)
        if detail:
            name, email = detail.get("name"), detail.get("email")
            if name and email:
                entry["author"] = f"{name} ({email})"
            elif name:
                entry["author"] = name
            elif email:
                entry["author"] = email
