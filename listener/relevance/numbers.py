"""Number words in the six rule languages, folded (lower case, no accents), for `#` in rules and for facts.

Only unambiguous words: "one", "due", "sei", "once", "sept" and "neuf" also mean something else, so they
are left out; small counts rarely matter for anniversaries or milestones anyway.
"""

from __future__ import annotations

NUMBER_WORDS: dict[str, int] = {
    # English
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    # Spanish
    "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "doce": 12,
    "quince": 15, "veinte": 20, "veinticinco": 25, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90, "cien": 100,
    # Portuguese
    "quatro": 4, "sete": 7, "oito": 8, "nove": 9, "dez": 10, "doze": 12, "quinze": 15, "vinte": 20,
    "vinte e cinco": 25, "trinta": 30, "quarenta": 40, "cinquenta": 50, "sessenta": 60, "setenta e cinco": 75,
    "cem": 100,
    # French
    "trois": 3, "quatre": 4, "huit": 8, "dix": 10, "douze": 12, "vingt": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "soixante": 60,
    # German (ß kept and spelled out)
    "drei": 3, "vier": 4, "funf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "zwolf": 12,
    "funfzehn": 15, "zwanzig": 20, "funfundzwanzig": 25, "dreißig": 30, "dreissig": 30, "vierzig": 40,
    "funfzig": 50, "sechzig": 60, "hundert": 100,
    # Italian
    "quattro": 4, "cinque": 5, "sette": 7, "otto": 8, "dieci": 10, "dodici": 12, "quindici": 15, "venti": 20,
    "venticinque": 25, "trenta": 30, "quaranta": 40, "cinquanta": 50, "sessanta": 60,
}  # fmt: skip

# Single-word forms only: what a `#` in a rule phrase may stand for besides digits.
SINGLE_WORDS = tuple(sorted((w for w in NUMBER_WORDS if " " not in w), key=len, reverse=True))


def number_value(word: str) -> int:
    """The value of a folded number word or of digits ("25"); 0 if it is neither."""
    word = word.strip()
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(" ".join(word.split()), 0)
