"""Render a Digest with Jinja: an email-safe HTML part (autoescaped) and a plain-text part."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from digests.model import Digest

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_HTTP = re.compile(r"^https?://[^\s\"'<>\\]+$", re.IGNORECASE)


def is_http_url(value: object) -> bool:
    """True for an http(s) URL with nothing that could break out of an attribute."""
    return isinstance(value, str) and bool(_HTTP.match(value))


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
    env.filters["link_label"] = link_label
    return env


_ENV = _environment()


@dataclass(frozen=True)
class Rendered:
    """What goes into the email: subject, HTML and text."""

    subject: str
    html: str
    text: str


def render_html(digest: Digest) -> str:
    """The HTML part."""
    return _ENV.get_template("digest.html").render(d=digest)


def render_text(digest: Digest) -> str:
    """The plain-text part."""
    text = _ENV.get_template("digest.txt").render(d=digest)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render(digest: Digest) -> Rendered:
    """Both parts and the subject."""
    return Rendered(subject=digest.subject, html=render_html(digest), text=render_text(digest))
