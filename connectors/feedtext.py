"""Small pure helpers shared by the feed and page connectors: untrusted HTML to plain text, dates, canonical URLs."""

from __future__ import annotations

import calendar
import hashlib
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

MAX_TEXT = 20_000
# Elements whose content is never text a person reads (and may be hostile: scripts, styles, embedded documents).
_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "math", "head", "form")
_BLOCKS = re.compile(r"(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr|/blockquote|/pre|hr)\b[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|igshid|"
    r"ref_src|ref_url|s_cid|cmpid|__twitter_impression|oly_enc_id|oly_anon_id|vero_id|rb_clickid|wt\.mc_id)$",
    re.IGNORECASE,
)
# A feed may say an entry is from tomorrow (clock skew, time zones); beyond that the date is not believed.
FUTURE_SLACK = timedelta(days=1)


def html_to_text(html: str | None, limit: int = MAX_TEXT) -> str:
    """Plain text of untrusted HTML: tags, scripts and styles removed, entities decoded, whitespace tidied."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return clean_text(html, limit)
    marked = _BLOCKS.sub(lambda m: m.group(0) + "\n", html)
    tree = HTMLParser(marked)
    for tag in _DROP:
        for node in tree.css(tag):
            node.decompose()
    root = tree.body or tree.root
    text = root.text(separator="", deep=True) if root is not None else ""
    return clean_text(text, limit)


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Normalized text: NFC, no control or bidi-override characters, single spaces, at most `limit` characters."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def one_line(text: str, limit: int = 500) -> str:
    """Text squeezed onto one line (titles, authors)."""
    return clean_text(" ".join(text.split()), limit)


def canonical_url(url: str | None, base: str | None = None) -> str:
    """The URL in a stable form for dedupe: http(s) only, lower-case host, no fragment, no tracking parameters."""
    if not url:
        return ""
    url = url.strip()
    if base:
        from urllib.parse import urljoin

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
    """A stable digest of a post's visible content: an edit changes it, whitespace does not."""
    joined = "\x1f".join(" ".join(p.split()).casefold() for p in parts)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def title_words(title: str) -> frozenset[str]:
    """The distinct words of a headline, casefolded, without one- and two-letter words ("a", "de", "of")."""
    return frozenset(w for w in re.findall(r"\w+", title.casefold()) if len(w) > 2 or w.isdigit())


def story_key(title: str, url: str, text: str) -> str:
    """A key that is equal for the same story on several sources: its title when it says enough, else URL or text."""
    words = re.findall(r"\w+", title.casefold())
    if len(words) >= 4:
        return hashlib.sha256(("t:" + " ".join(words)).encode()).hexdigest()
    if url:
        return hashlib.sha256(("u:" + url).encode()).hexdigest()
    return hashlib.sha256(("x:" + " ".join(re.findall(r"\w+", text.casefold()))[:2000]).encode()).hexdigest()
