"""Text preparation for matching: accent folding that keeps offsets, HTML stripping, headline and sentences."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from listener.relevance.hints import CustomerHints


def _build_fold_table() -> dict[int, int]:
    # One character in, one character out: offsets in the folded text are offsets in the original, so the
    # evidence can quote the post exactly as written while rules match "adquirió" and "adquirio" alike.
    table: dict[int, int] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0].lower()
        if len(base) == 1 and base.isascii() and base.isalpha():
            table[code] = ord(base)
    for src, dst in {"’": "'", "‘": "'", "´": "'", "“": '"', "”": '"', "«": '"', "»": '"', "\u00a0": " "}.items():
        table[ord(src)] = ord(dst)
    table[ord("ß")] = ord("ß")
    return table


FOLD_TABLE = _build_fold_table()
_FOLD_CHARS = {chr(src): chr(dst) for src, dst in FOLD_TABLE.items()}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_char(match: re.Match[str]) -> str:
    char = match[0]
    return _FOLD_CHARS.get(char, char)


_TAG = re.compile(r"<[^>]{0,400}>")
_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " "}
_ENTITY_RE = re.compile("|".join(map(re.escape, _ENTITY)))
_SENTENCE_END = re.compile(r"[.!?…\n|•·](?=\s|$)")  # a sentence ends after this character
_URL = re.compile(r"https?://\S+")


def fold(text: str) -> str:
    """Lower-case and strip accents, one character for one, so match offsets stay valid in the original."""
    if text.isascii():
        return text.lower()
    # Posts are mostly ASCII: replacing only the other characters is ~2x faster than str.translate.
    folded = _NON_ASCII.sub(_fold_char, text).lower()
    if len(folded) != len(text):  # a rare letter whose lower case is two characters: fold one by one
        folded = "".join(c if len(c) == 1 else ch for c, ch in zip(folded_chars(text), text, strict=True))
    return folded


def folded_chars(text: str) -> list[str]:
    """Each character folded on its own (the slow path)."""
    return [ch.translate(FOLD_TABLE).lower() for ch in text]


def strip_html(text: str) -> str:
    """Remove tags and the common entities; connectors normally do this, but feeds leak markup."""
    if "<" not in text and "&" not in text:
        return text
    text = _TAG.sub(" ", text)
    return _ENTITY_RE.sub(lambda m: _ENTITY[m.group(0)], text)


def strip_urls(text: str) -> str:
    """Drop links: they carry no wording and slow matching down."""
    return _URL.sub(" ", text) if "http" in text else text


@dataclass(frozen=True)
class Prepared:
    """A post as the matcher sees it: one string, the headline's end offset, and where sentences end."""

    original: str  # headline + "\n" + body, HTML and links removed
    folded: str  # same length as original
    headline_end: int  # offsets < headline_end belong to the headline
    sentence_ends: tuple[int, ...]  # sorted offsets where a sentence ends

    def sentence_of(self, offset: int) -> int:
        """Index of the sentence holding `offset`."""
        return bisect_right(self.sentence_ends, offset)

    def sentence_span(self, offset: int) -> tuple[int, int]:
        """Start and end offsets of the sentence holding `offset`."""
        index = self.sentence_of(offset)
        start = self.sentence_ends[index - 1] if index > 0 else 0
        end = self.sentence_ends[index] if index < len(self.sentence_ends) else len(self.original)
        return start, end


def prepare(title: str, text: str, max_chars: int = 3000) -> Prepared:
    """Join title and text; with no title (tweets), the first sentence is the headline."""
    title = strip_urls(strip_html(title)).strip()
    body = strip_urls(strip_html(text)).strip()[:max_chars]
    if title:
        original = f"{title}\n{body}"
        headline_end = len(title) + 1
    else:
        original = body
        first = _SENTENCE_END.search(body)
        headline_end = first.end() if first else len(body)
        headline_end = max(headline_end, min(len(body), 60))  # short openers ("Big news!") are not a headline
    ends = tuple([m.end() for m in _SENTENCE_END.finditer(original)])
    if title and (not ends or headline_end not in ends):  # the headline is a sentence of its own
        ends = tuple(sorted((*ends, headline_end)))
    return Prepared(original=original, folded=fold(original), headline_end=headline_end, sentence_ends=ends)


_NAME_CHAR = re.compile(r"\w")


@lru_cache(maxsize=4096)
def _name_words(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names folded, one space between words, longest first: the alternatives of _names_pattern."""
    return tuple(sorted({" ".join(fold(n).split()) for n in names if len(n.strip()) >= 2}, key=len, reverse=True))


@lru_cache(maxsize=4096)
def _names_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = (r"\W+".join(map(re.escape, name.split())) for name in words)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def mask_names(prepared: Prepared, hints: CustomerHints) -> Prepared:
    """The same post with the customer's name and aliases blanked out of the folded text (offsets unchanged).

    Masked letters become "_": still word characters, so neighbouring words stay apart, but no rule matches.
    """
    words = _name_words((hints.name, *hints.aliases))
    folded = prepared.folded
    # A name starts with its first word as written: most posts name no one, and `in` is cheaper than a
    # regex search (or compiling one for a customer never named).
    if not any((name.split() or [""])[0] in folded for name in words):
        return prepared
    pattern = _names_pattern(words)
    if pattern is None:
        return prepared
    folded, masked = pattern.subn(lambda m: _NAME_CHAR.sub("_", m.group(0)), folded)
    if not masked:
        return prepared
    return replace(prepared, folded=folded)
