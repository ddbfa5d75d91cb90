"""The key a name is matched by: the same on SQLite and PostgreSQL, whatever the language.

Sales ops type names the way their keyboard and their CRM let them: "CAFÉ MÜLLER", "Café Müller", "Cafe Muller"
and "café  müller" are one company to them. The key is computed here, in Python, and stored in its own column with
a unique index, so no database collation or `lower()` (which folds only ASCII on SQLite) decides what matches.

    key = NFKC(casefold(strip Latin/Greek/Cyrillic accents(NFKD(name)))), whitespace collapsed

- NFKC/NFKD: compatibility forms match their plain letters (full-width "ＡＣＭＥ" = "ACME", "ﬁ" = "fi").
- casefold: full Unicode case folding ("STRASSE" = "Straße", Greek final sigma, Cyrillic, Armenian ...).
- Accent-insensitive: the combining marks U+0300-U+036F are dropped, so "Electricite Optima" finds
  "Électricité Óptima". Reps type without accents on US keyboards and CRMs export them inconsistently, and
  Greek capitals drop their tonos ("ΩΜΕΓΑ" = "Ωμέγα"); two real companies whose names differ only by an
  accent are far rarer than one company spelled two ways. Only that block is dropped: the Japanese
  voicing marks (ガ vs カ) and Indic vowel signs change the word and are kept.
- Turkish: "İ" folds to "i" + a dot above, and the dot is dropped, so "İSTANBUL" = "Istanbul" = "istanbul";
  the dotless "ı" is its own letter and stays apart.
"""

from __future__ import annotations

import re
import unicodedata

_ACCENTS = re.compile("[\u0300-\u036f]")


def clean_name(name: str) -> str:
    """A name as stored: whitespace runs become one space, ends trimmed, NFC so it renders the same everywhere."""
    return unicodedata.normalize("NFC", " ".join(name.split()))


def name_key(name: str) -> str:
    """The matching key for a customer, contact or rep name (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(name.split()))
    folded = _ACCENTS.sub("", decomposed).casefold()
    # casefold can reintroduce marks ("İ" -> "i̇"); strip again, then compose what remains.
    return unicodedata.normalize("NFKC", _ACCENTS.sub("", unicodedata.normalize("NFKD", folded)))
