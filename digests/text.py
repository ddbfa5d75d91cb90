"""Small text helpers shared by the digest builders: one-line headlines, short labels, safe links."""

from __future__ import annotations

import re
from collections.abc import Iterable

_HEADLINE_CHARS = 160
_MAX_LINKS = 3
_HTTP = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
_UNSAFE = re.compile(r"[\s\"'<>\\]")


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word."""
    line = " ".join((text or "").split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut + "…"


def headline(title: str, text: str) -> str:
    """What happened, in one line: the title, else the start of the text."""
    return shorten(title or text, _HEADLINE_CHARS)


def safe_links(urls: Iterable[str]) -> tuple[str, ...]:
    """Only http(s) links, deduplicated, at most a few: a feed cannot slip a javascript: link into the email."""
    out: list[str] = []
    for url in urls:
        url = (url or "").strip()
        if _HTTP.match(url) and not _UNSAFE.search(url) and url not in out:
            out.append(url)
    return tuple(out[:_MAX_LINKS])
