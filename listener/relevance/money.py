"""Money, rounds, percentages and counts as written in EN/ES/PT/FR/DE/IT posts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from listener.relevance.lexicon import bundled_lexicon
from listener.relevance.text import fold

_SYMBOLS = {
    "us$": "USD", "$": "USD", "r$": "BRL", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "mx$": "MXN",
    "€": "EUR", "£": "GBP", "¥": "JPY", "chf": "CHF", "usd": "USD", "eur": "EUR", "gbp": "GBP", "brl": "BRL",
    "mxn": "MXN", "cop": "COP", "clp": "CLP", "ars": "ARS",
}  # fmt: skip
_WORDS = bundled_lexicon().money_words  # each language's [lexicon] money_words, folded
_SCALES = {
    "k": 1e3, "mil": 1e3, "thousand": 1e3, "tausend": 1e3, "mila": 1e3,
    "m": 1e6, "mm": 1e6, "mn": 1e6, "mio": 1e6, "mln": 1e6, "million": 1e6, "millions": 1e6, "millones": 1e6,
    "millón": 1e6, "millon": 1e6, "milhão": 1e6, "milhões": 1e6, "milhao": 1e6, "milhoes": 1e6,
    "millionen": 1e6, "milione": 1e6, "milioni": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9, "mil millones": 1e9, "mrd": 1e9, "milliard": 1e9,
    "milliards": 1e9, "milliarde": 1e9, "milliarden": 1e9, "miliardo": 1e9, "miliardi": 1e9, "bilhão": 1e9,
    "bilhões": 1e9, "bilhao": 1e9, "bilhoes": 1e9, "mil milhoes": 1e9,
}  # fmt: skip

# Patterns run on the folded text (lower case, no accents; same offsets as the original), without IGNORECASE,
# which would cost regex speed on every post.
_SYM = r"(?:us\$|r\$|ca?\$|a\$|mx\$|[$€£¥])"
_CODE_FIRST = r"(?:usd|eur|gbp|chf|brl|mxn)\s"  # "CHF 3 Mio.", "USD 5M"
_CODE = r"(?:usd|eur|gbp|brl|mxn|cop|clp|ars|chf)"
_NUM = r"\d{1,3}(?:[.,\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE = (
    r"(?:mil\s+millones|mil\s+milhoes|thousand|million(?:s|en)?|millones|millon|milhoes|milhao|billions?|bilhoes|"
    r"bilhao|milliard(?:s|e|en)?|miliard[oi]|milion[ei]|tausend|mila|mil|mrd\.?|mio\.?|mln|bn|mn|mm|[kmb])"
)
# Longest first, so "dolares estadounidenses" is read whole; a space inside a word is any run of spaces.
_WORD_ALTERNATIVES = "|".join(
    r"\s+".join(map(re.escape, word.split())) for word in sorted(_WORDS, key=len, reverse=True)
)
_WORD = f"(?:{_WORD_ALTERNATIVES})"
MONEY = re.compile(
    rf"(?<![\w$€£])(?:(?P<sym>{_SYM}|{_CODE_FIRST})\s?(?P<num>{_NUM})(?:\s?(?P<scale>{_SCALE})(?![a-z]))?"
    rf"|(?P<num2>{_NUM})\s?(?:(?P<scale2>{_SCALE})(?![a-z])\s?)?(?:(?:de|of|di)\s+)?"
    rf"(?P<cur>{_SYM}|{_CODE}\b|{_WORD}\b|m€|k€|mio\.?\s?€))"
)
PERCENT = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,]\d+)?)\s?(?:%|per\s?cent\b|por\s+ciento\b|por\s+cento\b)")
ROUND = re.compile(
    r"(?<!\w)(?:(?P<series>series?|serie)\s+(?P<letter>[a-h])(?!\w)"
    r"|(?P<preseed>pre[- ]?seed|pre[- ]?semilla|presemilla|pre[- ]?amorcage)"
    r"|(?P<seed>seed|semilla|semente|amorcage)"
    r"|(?P<bridge>bridge round|ronda puente)"
    r"|(?P<ipo>ipo|initial public offering|oferta publica inicial|opv|borsengang|introduction en bourse))"
    r"(?!\w)"
)
_CODE_THEN_NUMBER = re.compile(r"\d(?<=(?:usd|eur|gbp|chf|brl|mxn) \d)")  # anchored on the digit: fast
# A digit, then a currency word after at most three words. Only whether there is one matters: a digit after
# a digit gives the same continuation as the one before it, and the runs cannot give back characters the next
# part could start with (letters after digits and spaces, spaces after letters), so they are possessive: long
# numbers ("4711230") cost one try, not one per digit and backtracking step.
_NUMBER_THEN_WORD = re.compile(
    r"\d(?<!\d\d)[\d.,\s]*+(?:[a-z]++\.?\s++){0,3}?(?:usd|eur|gbp|brl|mxn|cop|clp|ars|chf|" + _WORD_ALTERNATIVES + ")"
)


_DIGIT = re.compile(r"\d")
_BEFORE_DIGIT = 5  # the longest currency before a number: "us$" or "usd" and a space, then an optional space


@dataclass(frozen=True)
class Money:
    """An amount as written, its value in units and its ISO currency."""

    text: str
    value: float
    currency: str
    start: int


def parse_number(raw: str) -> float:
    """'2,5' and '2.5' are 2.5; '1.400' and '1,400' are 1400: a lone separator before three digits groups."""
    raw = raw.replace("\u202f", "").replace(" ", "")
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return float(raw.replace(thousands, "").replace(decimal, "."))
    for sep in (",", "."):
        if sep in raw:
            head, _, tail = raw.rpartition(sep)
            if len(tail) == 3 and raw.count(sep) >= 1 and (raw.count(sep) > 1 or len(head) <= 3):
                return float(raw.replace(sep, ""))
            return float(raw.replace(sep, "."))
    return float(raw)


def _currency(symbol: str) -> str:
    key = symbol.lower().rstrip(". ")
    if key in ("m€", "mio€", "mio. €", "mio.€", "mio €"):
        return "EUR"
    if key == "k€":
        return "EUR"
    return _SYMBOLS.get(key) or _WORDS.get(key) or _WORDS.get(" ".join(key.split()), "")


def find_money(text: str, folded: str | None = None) -> list[Money]:
    """Every amount of money in `text` (pass its fold() if you have it), in order."""
    found: list[Money] = []
    folded = fold(text) if folded is None else folded
    # Most posts name no amount. A currency sign is a cheap substring test; a currency word must follow a
    # number within a few words, which a regex anchored on a digit finds fast (few places to try).
    # Every amount has a digit, at most _BEFORE_DIGIT characters after its start ("usd 5", "us$ 5").
    digit = _DIGIT.search(folded)
    if digit is None:
        return found
    if (
        not any(sign in folded for sign in "$€£¥")
        and _NUMBER_THEN_WORD.search(folded, digit.start()) is None
        and _CODE_THEN_NUMBER.search(folded, digit.start()) is None
    ):
        return found
    # The search starts where the first amount can: its lookbehind still sees the text before.
    for m in MONEY.finditer(folded, max(0, digit.start() - _BEFORE_DIGIT)):
        num = m.group("num") or m.group("num2")
        scale_raw = (m.group("scale") or m.group("scale2") or "").lower().rstrip(".")
        cur_raw = m.group("sym") or m.group("cur") or ""
        scale = _SCALES.get(" ".join(scale_raw.split()), 1.0)
        if cur_raw.lower().startswith("m") and "€" in cur_raw:
            scale = 1e6
        elif cur_raw.lower() == "k€":
            scale = 1e3
        try:
            value = parse_number(num) * scale
        except ValueError:
            continue
        currency = _currency(cur_raw)
        if not currency:
            continue
        found.append(Money(text=text[m.start() : m.end()].strip(), value=value, currency=currency, start=m.start()))
    return found


def find_round(folded: str) -> str:
    """The funding round named in folded text, as an English label ("Series B", "Seed", "IPO"), or ""."""
    m = ROUND.search(folded)
    if not m:
        return ""
    if m.group("series"):
        return f"Series {m.group('letter').upper()}"
    if m.group("preseed"):
        return "Pre-seed"
    if m.group("seed"):
        return "Seed"
    if m.group("bridge"):
        return "Bridge"
    return "IPO"


def find_percent(folded: str) -> str:
    """The first percentage in folded text, written compactly ("30%")."""
    m = PERCENT.search(folded)
    return f"{m.group(1)}%" if m else ""
