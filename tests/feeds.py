"""Feed documents for tests, built from a few fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


def rss(items: list[dict[str, str]], title: str = "Acme blog", link: str = "https://acme.example/") -> bytes:
    """An RSS 2.0 document; each item may give guid, title, link, description, date (RFC 822)."""
    parts = []
    for item in items:
        fields = "".join(
            f"<{tag}>{escape(item[key])}</{tag}>"
            for key, tag in (
                ("guid", "guid"),
                ("title", "title"),
                ("link", "link"),
                ("description", "description"),
                ("date", "pubDate"),
            )
            if key in item
        )
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>{escape(link)}</link><language>en</language>{''.join(parts)}</channel></rss>"
    ).encode()


def rfc822(days_ago: float, now: datetime | None = None) -> str:
    return format_datetime((now or datetime.now(UTC)) - timedelta(days=days_ago))
