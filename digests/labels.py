"""The digest's own words (titles, labels, the subject) in the rep's language, read from the phrasebooks' [labels]."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from digests.model import POST_KINDS, Item
from digests.suggest import DEFAULT_LANGUAGE, base_language, book_labels

_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}
SUBJECT_CHARS = 69  # the subject names the top item and stays under 70 characters (inbox previews cut the rest)


def labels(language: str) -> dict[str, str]:
    """The labels of a language tag, each key missing there read from English."""
    return dict(_labels(language or DEFAULT_LANGUAGE))


@lru_cache(maxsize=32)
def _labels(language: str) -> tuple[tuple[str, str], ...]:
    merged = book_labels(DEFAULT_LANGUAGE)
    merged.update(book_labels(language))
    return tuple(merged.items())


def short_date(day: date, language: str) -> str:
    """`Tue 24 Nov` / `mar 24 nov`: locale-free, so output does not depend on the machine's locale."""
    lang = base_language(language)
    lang = lang if lang in _WEEKDAYS else "en"
    return f"{_WEEKDAYS[lang][day.weekday()]} {day.day} {_MONTHS[lang][day.month - 1]}"


def subject_line(top: str, more: int, words: dict[str, str], on: date | None = None, language: str = "en") -> str:
    """The top item, then how many other customers have something ("Congratulate Nimbus on Monterrey · 4 more
    customers"), under 70 characters.

    An empty digest says so with its date ("Nothing new today · Tue 24 Nov"), so a quiet week's mails tell apart.
    """
    if not top:
        return words["subject.empty"] + (f" · {short_date(on, language)}" if on is not None else "")
    pattern = words["subject.more.one"] if more == 1 else words["subject.more"]
    tail = pattern.format(top="", n=more) if more > 0 else ""
    room = SUBJECT_CHARS - len(tail)
    if len(top) > room:
        top = top[: room - 1].rsplit(" ", 1)[0].rstrip(" ,:;·") + "…"
    return pattern.format(top=top, n=more) if more > 0 else top


def item_label(item: Item, words: dict[str, str]) -> str:
    """How an item past a card's cap is named on its "Also" line, in the rep's words: a post by its category
    ("funding"), a date by what it is ("Lena Park's birthday"), anything else by its title ("Time for a meeting")."""
    if item.kind in POST_KINDS:
        return words.get(f"cat.{item.category}") or words.get(f"title.{item.kind}") or item.kind
    if item.kind == "upcoming":
        return item.headline.split(" · ", 1)[0]
    return words.get(f"title.{item.kind}", item.kind)
