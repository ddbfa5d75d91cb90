"""Number words of every rule language, folded (lower case, no accents), for `#` in rules and for facts.

The words live in each config/rules/<lang>.toml ([lexicon.number_words]). Only unambiguous words: "one",
"due", "sei", "once", "sept" and "neuf" also mean something else, so they
are left out; small counts rarely matter for anniversaries or milestones anyway.
"""

from __future__ import annotations

from listener.relevance.lexicon import bundled_lexicon

NUMBER_WORDS: dict[str, int] = bundled_lexicon().number_words  # each language's [lexicon.number_words]

# Single-word forms only: what a `#` in a rule phrase may stand for besides digits.
SINGLE_WORDS = tuple(sorted((w for w in NUMBER_WORDS if " " not in w), key=len, reverse=True))


def number_value(word: str) -> int:
    """The value of a folded number word or of digits ("25"); 0 if it is neither."""
    word = word.strip()
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(" ".join(word.split()), 0)
