"""Small text helpers shared by the digest builders: one-line headlines, short labels, safe links."""

from __future__ import annotations

import re
from collections.abc import Iterable

_HEADLINE_CHARS = 160
_MAX_LINKS = 3
_HTTP = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
_UNSAFE = re.compile(r"[\s\"'<>\\]")
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")
_MIN_SENTENCE = 20  # "Big news!" is not a headline on its own


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word."""
    line = " ".join((text or "").split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut + "…"


def headline(title: str, text: str) -> str:
    """What happened, in one line: the title, else the text's first sentence (a tweet), else the start of the text."""
    if title.strip():
        return shorten(title, _HEADLINE_CHARS)
    line = " ".join((text or "").split())
    first = _SENTENCE_END.search(line, _MIN_SENTENCE)
    if first is not None and first.end() <= _HEADLINE_CHARS:
        return line[: first.end()].strip()
    return shorten(line, _HEADLINE_CHARS)


def safe_links(urls: Iterable[str]) -> tuple[str, ...]:
    """Only http(s) links, deduplicated, at most a few: a feed cannot slip a javascript: link into the email."""
    out: list[str] = []
    for url in urls:
        url = (url or "").strip()
        if _HTTP.match(url) and not _UNSAFE.search(url) and url not in out:
            out.append(url)
    return tuple(out[:_MAX_LINKS])
