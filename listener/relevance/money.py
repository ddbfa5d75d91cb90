"""Money, rounds, percentages and counts as written in EN/ES/PT/FR/DE/IT posts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from listener.relevance.lexicon import bundled_lexicon, cue_pattern
from listener.relevance.text import fold

# Every language's words together (config/rules/<lang>.toml, [lexicon] money_words and the [facts] table):
# an amount, a round or a percentage reads the same in a post of any language, often mixed.
_LEXICON = bundled_lexicon()
_FACTS = _LEXICON.all_facts()
_WORDS = _LEXICON.money_words  # each language's [lexicon] money_words, folded
# Signs ("$", "r$", "€") and ISO codes ("usd"), folded, with their ISO code.
_SYMBOLS: dict[str, str] = _FACTS.table("currency_symbols")
_CODES = sorted(key for key in _SYMBOLS if key.isalpha())  # three letters each (checked when read)
_SCALES: dict[str, float] = {word.rstrip("."): float(factor) for word, factor in _FACTS.table("scale_words").items()}

# Patterns run on the folded text (lower case, no accents; same offsets as the original), without IGNORECASE,
# which would cost regex speed on every post.
_SYM = cue_pattern(key for key in _SYMBOLS if not key.isalpha())
_CODE = "(?:" + "|".join(_CODES) + ")"
_CODE_FIRST = rf"{_CODE}\s"  # "CHF 3 Mio.", "USD 5M"
_NUM = r"\d{1,3}(?:[.,\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE = cue_pattern(_FACTS.table("scale_words"))
_JOINER = cue_pattern(_FACTS.words("money_joiners"))
# Longest first, so "dolares estadounidenses" is read whole; a space inside a word is any run of spaces.
_WORD_ALTERNATIVES = "|".join(
    r"\s+".join(map(re.escape, word.split())) for word in sorted(_WORDS, key=len, reverse=True)
)
_WORD = f"(?:{_WORD_ALTERNATIVES})"
MONEY = re.compile(
    rf"(?<![\w$€£])(?:(?P<sym>{_SYM}|{_CODE_FIRST})\s?(?P<num>{_NUM})(?:\s?(?P<scale>{_SCALE})(?![a-z]))?"
    rf"|(?P<num2>{_NUM})\s?(?:(?P<scale2>{_SCALE})(?![a-z])\s?)?(?:{_JOINER}(?:\s+|(?<=')))?"
    rf"(?P<cur>{_SYM}|{_CODE}\b|{_WORD}\b))"
)
_PERCENT_WORDS = _FACTS.words("percent_words")
PERCENT = re.compile(rf"(?<![\w.,])(\d{{1,3}}(?:[.,]\d+)?)\s?(?:%|{cue_pattern(_PERCENT_WORDS)}(?!\w))")
# A cheap substring test before the percentage regex: the last word of each percent word, minus those that
# hold a shorter one ("cento" holds "cent").
_LAST_WORDS = {word.split()[-1] for word in _PERCENT_WORDS}
_PERCENT_HINTS = tuple(w for w in _LAST_WORDS if not any(o != w and o in w for o in _LAST_WORDS))
_ROUND_LABELS = {re.sub(r"[\s\-]", "", word): label for word, label in _FACTS.table("round_words").items()}
ROUND = re.compile(  # "Series B", "Series-D-Finanzierungsrunde"
    rf"(?<!\w)(?:(?P<series>{cue_pattern(_FACTS.words('series_words'))})[\s\-]+(?P<letter>[a-h])"
    rf"|(?P<word>{cue_pattern(_FACTS.table('round_words'))}))(?!\w)"
)
_CODE_THEN_NUMBER = re.compile(rf"\d(?<={_CODE} \d)")  # anchored on the digit: fast
# A digit, then a currency word after at most three words. Only whether there is one matters: a digit after
# a digit gives the same continuation as the one before it, and the runs cannot give back characters the next
# part could start with (letters after digits and spaces, spaces after letters), so they are possessive: long
# numbers ("4711230") cost one try, not one per digit and backtracking step. An elided joiner ("d'euros" in
# Catalan, French) ends a word as a space would.
_NUMBER_THEN_WORD = re.compile(
    r"\d(?<!\d\d)[\d.,\s]*+(?:[a-z]++(?:\.?\s++|'(?=[a-z]))){0,3}?(?:"
    + "|".join(_CODES)
    + "|"
    + _WORD_ALTERNATIVES
    + ")"
)


_DIGIT = re.compile(r"\d")
_AMBIGUOUS = {lang: frozenset(_LEXICON.facts_for(lang).words("ambiguous_symbols")) for lang in _LEXICON.languages}
# The longest currency before a number ("us$" or "usd"), a space, then an optional space.
_BEFORE_DIGIT = max((len(key) for key in _SYMBOLS), default=3) + 2
_SIGNS = "".join(sorted({char for key in _SYMBOLS for char in key if not char.isalpha()}))  # "$€£¥"


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
    return _SYMBOLS.get(key) or _WORDS.get(key) or _WORDS.get(" ".join(key.split()), "")


def find_money(text: str, folded: str | None = None, lang: str = "") -> list[Money]:
    """Every amount of money in `text` (pass its fold() if you have it), in order.

    In a post in `lang`, an amount with a sign that names no single currency there ("$" in Spanish: pesos or
    dollars) is left out: no currency is better than a wrong one.
    """
    ambiguous = _AMBIGUOUS.get(lang, frozenset())
    found: list[Money] = []
    folded = fold(text) if folded is None else folded
    # Most posts name no amount. A currency sign is a cheap substring test; a currency word must follow a
    # number within a few words, which a regex anchored on a digit finds fast (few places to try).
    # Every amount has a digit, at most _BEFORE_DIGIT characters after its start ("usd 5", "us$ 5").
    digit = _DIGIT.search(folded)
    if digit is None:
        return found
    if (
        not any(sign in folded for sign in _SIGNS)
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
        try:
            value = parse_number(num) * scale
        except ValueError:
            continue
        currency = _currency(cur_raw)
        if not currency or cur_raw.strip() in ambiguous:
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
    return _ROUND_LABELS.get(re.sub(r"[\s\-]", "", m.group("word")), "")


def might_hold_percent(folded: str) -> bool:
    """Whether folded text may write a percentage in words ("15 por ciento"); cheap, before PERCENT."""
    return any(hint in folded for hint in _PERCENT_HINTS)


def find_percent(folded: str) -> str:
    """The first percentage in folded text, written compactly ("30%")."""
    m = PERCENT.search(folded)
    return f"{m.group(1)}%" if m else ""
