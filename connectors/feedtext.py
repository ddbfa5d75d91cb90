"""Small pure helpers shared by the feed and page connectors: untrusted HTML to plain text, dates, canonical URLs."""

from __future__ import annotations

import calendar
import functools
import hashlib
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from html.entities import html5 as html5_entities
from urllib.parse import parse_qsl, urlencode, urljoin, urlparse, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

MAX_TEXT = 20_000
# Markup read from one entry. The HTML parser slows down with the square of nesting depth (100,000 nested <div>s
# took minutes), so a hostile entry could tie up a parser process; ten times the text kept is room for markup.
MAX_HTML = 10 * MAX_TEXT
# Elements whose content is never text a person reads (and may be hostile: scripts, styles, embedded documents).
_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "math", "head", "form")
_BLOCKS = re.compile(r"(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr|/blockquote|/pre|hr)\b[^>]*>")
# Lone surrogates too: JSON's \u escapes can name half a pair, which no database encoding (nor UTF-8) accepts.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
# The runs of _SPACES that are not a single space already: replacing only these by a space gives the same text as
# replacing every run, without a replacement for every word.
_ODD_SPACES = re.compile(r"[\t\r\f\v\xa0][ \t\r\f\v\xa0]*| [ \t\r\f\v\xa0]+")
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|igshid|"
    r"ref_src|ref_url|s_cid|cmpid|__twitter_impression|oly_enc_id|oly_anon_id|vero_id|rb_clickid|wt\.mc_id)$",
    re.IGNORECASE,
)
# Markup after which the body may hold one of _DROP, or the document's body may be another once its head is removed
# (a frameset replaces the body the parser made, and removing the head makes the parser look for the body anew).
_DROP_OPENERS = (*("<" + tag for tag in _DROP if tag != "head"), "<frameset")
_BLOCK_END = r"\g<0>" + "\n"
# Elements whose content is ordinary text in the body however they nest (see _simple_text); all but these, and
# every one of _DROP, go through the HTML parser.
_SIMPLE_TAG_NAMES = (
    "a abbr acronym address article aside b bdi bdo big blockquote br center cite code data dd del dfn div dl dt em "
    "figcaption figure font footer h1 h2 h3 h4 h5 h6 header hgroup hr i img ins kbd li main mark nav ol p q s samp "
    "section small span strike strong sub sup time tt u ul var wbr"
)
_SIMPLE_TAGS = frozenset(_SIMPLE_TAG_NAMES.split())
_SIMPLE_MAX = 1500  # characters of markup always worth reading without the parser
_SIMPLE_SPARSE = 50  # longer markup too, when it has at most one "<" or "&" in this many characters
_WS = r"[ \t\n\f\r]"
# A start or end tag, in a strict subset of the HTML syntax (attribute values quoted or plain, nothing after an end
# tag's name); groups: the end tag's "/", the name.
_TAG = re.compile(
    rf"""<(/)?([A-Za-z][A-Za-z0-9]*+)(?(1){_WS}*+>|"""
    rf"""(?:{_WS}++[A-Za-z_:][-A-Za-z0-9_:.]*+(?:{_WS}*+={_WS}*+(?:"[^"]*+"|'[^']*+'|[^ \t\n\f\r"'=<>`]++))?+)*+"""
    rf"""{_WS}*+/?>)"""
)
_TAG_OPEN = re.compile(r"<(?:[!/?A-Za-z]|\Z)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REFERENCE = re.compile(r"&(?:#[xX]([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z0-9]+))(;?)")
_ENTITIES = html5_entities
_LEGACY_ENTITIES = {name: value for name, value in html5_entities.items() if not name.endswith(";")}
_LEGACY_LONGEST = max(map(len, _LEGACY_ENTITIES))
# A numeric reference to a C1 control means the Windows-1252 character (the five it leaves undefined stay).
_C1_REFERENCES = {n: bytes([n]).decode("cp1252") for n in range(0x80, 0xA0) if n not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
# An absolute http(s) URL in plain characters: lower-case scheme, a host name without port, user or trailing dot, a
# path without parameters (";"), a query of plain name=value pairs (which parse_qsl and urlencode give back as they
# are), a fragment. Groups: scheme, host, path, query. Possessive: each part ends where the next begins, so
# there is nothing to backtrack into.
_SIMPLE_URL = re.compile(
    r"(https?)://([A-Za-z0-9]++(?:-++[A-Za-z0-9]++)*+(?:\.[A-Za-z0-9]++(?:-++[A-Za-z0-9]++)*+)*+)"
    r"(/[A-Za-z0-9\-._~!$&'()*+,=:@%/]*+)?+"
    r"(?:\?([A-Za-z0-9_.~-]++=[A-Za-z0-9_.~-]*+(?:&[A-Za-z0-9_.~-]++=[A-Za-z0-9_.~-]*+)*+)?+)?+"
    r"(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*+)?+",
    re.ASCII,
)
# A feed may say an entry is from tomorrow (clock skew, time zones); beyond that the date is not believed.
FUTURE_SLACK = timedelta(days=1)


def html_to_text(html: str | None, limit: int = MAX_TEXT) -> str:
    """Plain text of untrusted HTML: tags, scripts and styles removed, entities decoded, whitespace tidied."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return clean_text(html, limit)
    marked = _BLOCKS.sub(_BLOCK_END, html[:MAX_HTML])
    # Reading markup in Python costs per tag and reference, the parser per character plus a document: short or
    # sparsely marked-up text is cheaper here (and dense markup no slower than it was).
    size = len(marked)
    sparse = size <= _SIMPLE_MAX or (marked.count("<") + marked.count("&")) * _SIMPLE_SPARSE <= size
    text = _simple_text(marked) if sparse else None
    if text is None:
        text = _parsed_text(marked)
    return clean_text(text, limit)


def _parsed_text(html: str) -> str:
    """The text of the document's body as an HTML parser builds it, without the `_DROP` elements."""
    tree = HTMLParser(html)
    body = tree.body
    if body is not None:
        lowered = html.lower()
        # An element can only be named in markup by "<" and its name (the parser creates none of _DROP on its own
        # but head, which is never in body): with none of these in the source, removing them leaves the body as it
        # is, and the body is the same element after the head's removal.
        if not any(opener in lowered for opener in _DROP_OPENERS):
            return body.text(separator="", deep=True)
    for tag in _DROP:
        for node in tree.css(tag):
            node.decompose()
    root = tree.body or tree.root
    return root.text(separator="", deep=True) if root is not None else ""


def _simple_text(html: str) -> str | None:
    """The body text an HTML parser gives for simple markup, or None when the markup is not simple.

    Simple: text (character references included) and start/end tags of `_SIMPLE_TAGS` only, in a strict subset of
    the tag syntax. Those elements hold ordinary text wherever they are nested or misnested, in source order (no
    table foster-parenting, no raw-text or RCDATA content, no head elements, no newline dropped after a start
    tag), so the body's text is the text runs between tags, each with its references decoded. Whitespace before the
    first tag or text goes to the head, not the body: it is whitespace at the start, which clean_text drops anyway.
    Anything else (comments, doctypes, other elements, NUL, lone surrogates) is left to the real parser.
    """
    if "\x00" in html or (not html.isascii() and _SURROGATE.search(html)):
        return None
    if "\r" in html:  # the parser's input preprocessing: CRLF and lone CR are LF
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    parts = _TAG.split(html)  # text, "/" or None, tag name, text, ...
    names = parts[2::3]
    if not (_SIMPLE_TAGS.issuperset(names) or _SIMPLE_TAGS.issuperset(map(str.lower, names))):
        return None
    runs = parts[0::3]
    text = "".join(runs)
    # Every "<" left in the runs is text only if what follows it starts no tag, end tag, comment or declaration
    # (a "<" at the end of one run may be followed by the next run here, but was followed by a tag's "<": at worst
    # this sends a simple document to the parser).
    if "<" in text and _TAG_OPEN.search(text):
        return None
    if "&" in text:
        # A reference never spans a tag: decode the runs apart, joined by a NUL (not in the text, in no reference,
        # in no decoded reference) that stops a reference as the end of its run does.
        text = _REFERENCE.sub(_decode_reference, "\x00".join(runs)).replace("\x00", "")
    return text


def _decode_reference(match: re.Match[str]) -> str:
    """One character reference in text, as the HTML tokenizer decodes it."""
    hex_digits, digits, name, semicolon = match.groups()
    if name is None:
        significant = (hex_digits if hex_digits is not None else digits).lstrip("0")
        if len(significant) > 8:  # beyond any code point (and int() refuses numbers of thousands of digits)
            return "\ufffd"
        number = int(significant or "0", 16 if hex_digits is not None else 10)
        if number == 0 or number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
            return "\ufffd"
        return _C1_REFERENCES.get(number) or chr(number)
    if semicolon and name + ";" in _ENTITIES:
        return _ENTITIES[name + ";"]
    # the longest prefix of the name that is a reference valid without its semicolon ("&notit;" is "¬it;")
    for end in range(min(len(name), _LEGACY_LONGEST), 1, -1):
        value = _LEGACY_ENTITIES.get(name[:end])
        if value is not None:
            return value + name[end:] + semicolon
    return match.group(0)


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Normalized text: NFC, no control or bidi-override characters, single spaces, at most `limit` characters."""
    if _is_clean(text, limit):
        return text
    text = unicodedata.normalize("NFC", text)
    if not text.replace("\n", " ").isprintable():
        text = _CONTROL.sub("", text)
        text = _ODD_SPACES.sub(" ", text)
    elif "  " in text:  # printable: no control character, and no space but " "
        text = _ODD_SPACES.sub(" ", text)
    # runs of spaces never hold a newline, so they can be replaced in all the lines at once
    text = "\n".join(line for line in (part.strip() for part in text.split("\n")) if line)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _is_clean(text: str, limit: int) -> bool:
    """Whether clean_text (and so one_line) gives the text back as it is: nothing in it for their steps to change.

    A printable string has no control, format (bidi, zero-width) or separator character, and no whitespace, but the
    space; so with no double, leading or trailing space, and in NFC, it is one clean line.
    """
    return (
        len(text) <= limit
        and text.isprintable()
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    )


def one_line(text: str, limit: int = 500) -> str:
    """Text squeezed onto one line (titles, authors)."""
    if _is_clean(text, limit):
        return text
    return clean_text(" ".join(text.split()), limit)


def canonical_url(url: str | None, base: str | None = None) -> str:
    """The URL in a stable form for dedupe: http(s) only, lower-case host, no fragment, no tracking parameters."""
    if not url:
        return ""
    url = url.strip()
    if not url.isascii():
        url = _SURROGATE.sub("", url)  # half a surrogate pair (from a JSON escape) would break encoding the URL
    simple = _SIMPLE_URL.fullmatch(url)
    if simple is not None and (not base or _base_parses(base)):
        # An absolute http(s) URL that urljoin returns as it is, and whose parts need none of the steps below.
        scheme, host, path, query = simple.groups()
        if query:
            query = "&".join(pair for pair in query.split("&") if not _TRACKING.match(pair.partition("=")[0]))
        return f"{scheme}://{host.lower()}{path or '/'}{'?' if query else ''}{query or ''}"
    return _canonical_url_parsed(url, base)


def _canonical_url_parsed(url: str, base: str | None) -> str:
    """canonical_url for any URL, through urllib (what the plain-URL shortcut must agree with)."""
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


MAX_URL = 2048  # characters of a link Listener shows a person (longer ones are junk or an attack on the mail)


def outbound_url(url: str | None, base: str | None = None) -> str:
    """A link a rep will follow (a post's comments page): resolved against `base`, http(s) with a host, no
    credentials ("https://bank.example@evil.example/"), no spaces or control characters, at most MAX_URL characters;
    "" otherwise. Unlike canonical_url it keeps the query and the fragment: `#comments` is where the link points."""
    if not url:
        return ""
    url = url.strip()
    if not url.isascii():
        url = _SURROGATE.sub("", url)
    if len(url) > MAX_URL or _CONTROL.search(url) or any(ch.isspace() for ch in url):
        return ""
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    out = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment))
    return out if len(out) <= MAX_URL else ""


@functools.lru_cache(maxsize=64)
def _base_parses(base: str) -> bool:
    """Whether urljoin can parse this base URL (else it raises, and canonical_url lets it)."""
    try:
        urlparse(base)
    except Exception:
        return False
    return True


def struct_to_datetime(value: time.struct_time | tuple[int, ...] | None) -> datetime | None:
    """An aware UTC datetime from feedparser's UTC struct_time, or None when missing or garbled."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm((*tuple(value)[:6], 0, 0, 0)), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def sane_date(value: datetime | None, now: datetime) -> datetime | None:
    """The date if believable: before 1995 is garbled (None); after tomorrow is clamped to now."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value.year < 1995:
        return None
    if value > now + FUTURE_SLACK:
        return now
    return value


def content_hash(*parts: str) -> str:
    """A stable digest of a post's visible content: an edit changes it, whitespace does not.

    Also the id of a feed entry that has none; storing's use of it is in listener/ingest/identity.py.
    """
    joined = "\x1f".join(" ".join(p.split()).casefold() for p in parts)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()
