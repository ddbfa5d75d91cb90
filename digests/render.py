"""Render a Digest with Jinja: an email-safe HTML part (autoescaped) and a plain-text part."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from digests.labels import item_label
from digests.model import Digest

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Gmail clips messages whose HTML passes about 102 KB; stay below with a margin for headers and encoding.
MAX_HTML_BYTES = 100 * 1024
_HTTP = re.compile(r"^https?://[^\s\"'<>\\]+$", re.IGNORECASE)


def is_http_url(value: object) -> bool:
    """True for an http(s) URL with nothing that could break out of an attribute."""
    return isinstance(value, str) and bool(_HTTP.match(value))


_MAILTO = re.compile(r"^mailto:[^\s\"'<>\\]*$", re.IGNORECASE)


def is_action_url(value: object) -> bool:
    """An action's link: http(s), or a mailto: whose parts are percent-encoded (RFC 6068)."""
    return is_http_url(value) or (isinstance(value, str) and bool(_MAILTO.match(value)))


def link_label(url: str) -> str:
    """A short readable label for a link: host and the start of the path."""
    parts = urlsplit(url)
    label = parts.netloc + parts.path
    return label if len(label) <= 48 else label[:47] + "…"


def _environment() -> Environment:
    # Autoescape for the .html template (and any string template); the .txt template is plain text on purpose.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.tests["http_url"] = is_http_url
    env.tests["action_url"] = is_action_url
    env.filters["link_label"] = link_label
    return env


_ENV = _environment()


@dataclass(frozen=True)
class Rendered:
    """What goes into the email: subject, HTML and text."""

    subject: str
    html: str
    text: str
    digest: Digest  # what was rendered: fewer items than asked if the size cap moved some to the summaries


def render_html(digest: Digest) -> str:
    """The HTML part."""
    return _ENV.get_template("digest.html").render(d=digest)


def render_text(digest: Digest) -> str:
    """The plain-text part."""
    text = _ENV.get_template("digest.txt").render(d=digest)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render(digest: Digest, max_html_bytes: int = MAX_HTML_BYTES) -> Rendered:
    """Both parts and the subject; the HTML is kept under Gmail's clipping size by moving items to the summaries."""
    html = render_html(digest)
    while len(html.encode("utf-8")) > max_html_bytes:
        smaller = _shrink(digest)
        if smaller is digest:
            break
        digest = smaller
        html = render_html(digest)
    return Rendered(subject=digest.subject, html=html, text=render_text(digest), digest=digest)


def _shrink(digest: Digest) -> Digest:
    """The same digest one item shorter: the fullest card's last item joins its summary line, or the last card
    joins the line of customers past the budget."""
    fullest = max(digest.cards, key=lambda c: len(c.items), default=None)
    if fullest is None:
        return digest
    if len(fullest.items) > 1:
        last = fullest.items[-1]
        label = item_label(last, digest.labels)
        shorter = replace(fullest, items=fullest.items[:-1], more=(label, *fullest.more))
        return replace(digest, cards=tuple(shorter if c is fullest else c for c in digest.cards))
    if len(digest.cards) <= 1:
        return digest
    dropped = digest.cards[-1]
    named = f"{dropped.customer} ({len(dropped.items) + len(dropped.more)})"
    return replace(digest, cards=digest.cards[:-1], more_customers=(named, *digest.more_customers))
