"""Language knowledge as data: the `[lexicon]` table of each bundled config/rules/<lang>.toml.

Function words (to confirm a declared language), number words (`#` in phrases, years in facts), currency
words, the veto's false friends and the words that start a sentence but are no name; and, in the `[facts]`
table, the cue words that facts.py and money.py read names, amounts and years after. They are compiled into
module-level patterns when Listener starts, so they are read once, from the bundled rules only: a new
language is one data file (its phrases, its lexicon and its facts) plus tests, and no Python.
The format is documented in config/rules/README.md ("Lexicon" and "Facts").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from listener.errors import ConfigError
from listener.relevance.text import fold
from listener.resources import config_dir

LEXICON_KEYS = {
    "function_words": "short, frequent function words that confirm a declared language",
    "number_words": "number words and their values (`#` in phrases, years in facts)",
    "money_words": "currency words after an amount, with their ISO code",
    "veto_false_friends": "strong challenge phrases that are ordinary words in another language: never a veto alone",
    "name_stop_words": "capitalised words that start a sentence, not a name",
    "english_false_friends": "English cue words, ordinary words in this language: on its posts, no cue, no veto",
}


# The `[facts]` table: word lists (a cue is written like a phrase: see cue_pattern) and four tables.
FACT_LISTS = {
    "award_cues": "words before an award's name (won the, named)",
    "award_giver_cues": "words between an award and who gives it (by, from)",
    "partner_cues": "words before a partner's or a customer's name (partners with, selected by)",
    "product_cues": "verbs before a product's name (launches, introducing)",
    "product_determiners": "words that may stand between that verb and the name (our, the)",
    "product_new_words": "'new' before a product's name",
    "product_nouns": "generic nouns before a product's name (app, platform)",
    "place_cues": "words before a place's name (in, opens in)",
    "event_cues": "words before an event's name (speaking at, join us at)",
    "articles": "articles skipped between a cue and a name (the, la)",
    "title_prefixes": "headline prefixes that are not the topic (new on the blog, case study)",
    "role_modifiers": "words before a role that are part of it (interim, new)",
    "role_joiners": "words between two roles of one person (Founder and CEO)",
    "roles": "job titles (chief * officer, head of *)",
    "name_joiners": "small words inside a proper name (Bank of Ireland), as written",
    "name_particles": "particles inside a personal name (de la, van), as written",
    "not_person_words": "capitalised words that make a run of them no personal name (Group, Inc, Joins)",
    "ambiguous_symbols": "currency signs that name no single currency in this language's posts ($ in Spanish)",
    "year_words": "words after a count of years (years, años, Jahre, anniversary)",
    "ordinal_suffixes": "endings of an ordinal before those words (th in 25th)",
    "percent_words": "words after a number that make it a percentage (per cent)",
    "series_words": "the word before a round's letter (Series B)",
    "money_joiners": "words between a scale and a currency word (2 millones de euros)",
}
FACT_TABLES: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "years_phrases": ("whole phrases that count years (a decade = 10)", int),
    "round_words": ("funding rounds and their English label (semilla = Seed)", str),
    "scale_words": ("scale words after an amount and their factor (million = 1000000)", (int, float)),
    "currency_symbols": ("signs and ISO codes of currencies, with their ISO code ($ = USD, eur = EUR)", str),
}
FACTS_KEYS = {**FACT_LISTS, **{key: text for key, (text, _) in FACT_TABLES.items()}}


@dataclass(frozen=True)
class FactWords:
    """One language's `[facts]` table, folded like the text it is searched in (names' words as written)."""

    lists: dict[str, tuple[str, ...]]
    tables: dict[str, dict[str, Any]]

    def words(self, key: str) -> tuple[str, ...]:
        return self.lists.get(key, ())

    def table(self, key: str) -> dict[str, Any]:
        return self.tables.get(key, {})

    def merged(self, other: FactWords) -> FactWords:
        """This language's words and the other's (English mixes into posts of every language)."""
        lists = {key: tuple(dict.fromkeys((*self.words(key), *other.words(key)))) for key in self.lists | other.lists}
        tables = {key: {**other.table(key), **self.table(key)} for key in self.tables | other.tables}
        return FactWords(lists, tables)


@dataclass(frozen=True)
class Lexicon:
    """The language knowledge of every bundled language, merged where the code needs it merged."""

    languages: tuple[str, ...]  # in file order: the languages with rules and a lexicon
    function_words: dict[str, frozenset[str]]
    number_words: dict[str, int]
    money_words: dict[str, str]
    veto_false_friends: frozenset[str]
    name_stop_words: frozenset[str]
    # English phrases run on every language's posts; these are English cue words that are ordinary words of
    # the post's own language (it "le sue" is "her", fr "l'issue" an outcome, es "a media mañana" mid-morning).
    english_false_friends: dict[str, frozenset[str]]
    facts: dict[str, FactWords]  # per language; a language without a [facts] table has none

    def facts_for(self, lang: str) -> FactWords:
        """The fact cues for a post in `lang`: its own and the English ones; English alone for the others."""
        english = self.facts.get("en", FactWords({}, {}))
        own = self.facts.get(lang)
        return english if own is None or lang == "en" else own.merged(english)

    def all_facts(self) -> FactWords:
        """Every language's fact words together (amounts, rounds and percentages are read in any language)."""
        merged = FactWords({}, {})
        for lang in self.languages:
            if lang in self.facts:
                merged = self.facts[lang].merged(merged)
        return merged


def _fail(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"rules file {path}: lexicon.{key}: {message}")


def _words(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise _fail(path, key, "expected a list of non-empty words")
    return [w.strip() for w in value]


def _table(path: Path, key: str, value: Any, kind: type) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, key, "expected a table of word = value")
    for word, item in value.items():
        if not word.strip() or not isinstance(item, kind) or isinstance(item, bool):
            raise _fail(path, f"{key}.{word}", f"expected a {kind.__name__}, got {item!r}")
    return dict(value)


def check_lexicon(path: Path, table: Any) -> dict[str, Any]:
    """Validate one file's `[lexicon]` table; raise ConfigError naming the file and key."""
    if not isinstance(table, dict):
        raise ConfigError(f"rules file {path}: lexicon: must be a table")
    unknown = sorted(set(table) - set(LEXICON_KEYS))
    if unknown:
        raise _fail(path, unknown[0], f"unknown key (known: {', '.join(LEXICON_KEYS)})")
    checked: dict[str, Any] = {}
    for key in ("function_words", "veto_false_friends", "name_stop_words", "english_false_friends"):
        if key in table:
            checked[key] = _words(path, key, table[key])
    if "number_words" in table:
        checked["number_words"] = _table(path, "number_words", table["number_words"], int)
    if "money_words" in table:
        money = _table(path, "money_words", table["money_words"], str)
        for word, code in money.items():
            if len(code) != 3 or not code.isalpha() or not code.isupper():
                raise _fail(path, f"money_words.{word}", f"expected an ISO 4217 code such as EUR, got {code!r}")
        checked["money_words"] = money
    return checked


def check_facts(path: Path, table: Any) -> dict[str, Any]:
    """Validate one file's `[facts]` table; raise ConfigError naming the file and key."""
    if not isinstance(table, dict):
        raise ConfigError(f"rules file {path}: facts: must be a table")
    unknown = sorted(set(table) - set(FACTS_KEYS))
    if unknown:
        raise ConfigError(f"rules file {path}: facts.{unknown[0]}: unknown key (known: {', '.join(FACTS_KEYS)})")
    checked: dict[str, Any] = {}
    for key, value in table.items():
        where = f"facts.{key}"
        if key in FACT_LISTS:
            if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
                raise ConfigError(f"rules file {path}: {where}: expected a list of non-empty words")
            checked[key] = [w.strip() for w in value]
            continue
        _, kind = FACT_TABLES[key]
        if not isinstance(value, dict):
            raise ConfigError(f"rules file {path}: {where}: expected a table of word = value")
        for word, item in value.items():
            if not word.strip() or not isinstance(item, kind) or isinstance(item, bool):
                names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
                raise ConfigError(f"rules file {path}: {where}.{word}: expected a {names}, got {item!r}")
            if key == "currency_symbols" and word.isalpha() and len(word) != 3:
                raise ConfigError(
                    f"rules file {path}: {where}.{word}: a code has three letters (a sign holds a non-letter)"
                )
            if key == "currency_symbols" and not (
                isinstance(item, str) and len(item) == 3 and item.isalpha() and item.isupper()
            ):
                raise ConfigError(
                    f"rules file {path}: {where}.{word}: expected an ISO 4217 code such as EUR, got {item!r}"
                )
            if key in ("years_phrases", "scale_words") and isinstance(item, int | float) and item <= 0:
                raise ConfigError(f"rules file {path}: {where}.{word}: expected a positive number, got {item!r}")
        checked[key] = dict(value)
    return checked


def _fact_words(checked: dict[str, Any]) -> FactWords:
    # Names' small words are matched in the original text, as written; everything else in the folded text.
    as_written = {"name_joiners", "name_particles"}
    lists = {
        key: tuple(dict.fromkeys(w if key in as_written else " ".join(fold(w).split()) for w in value))
        for key, value in checked.items()
        if key in FACT_LISTS
    }
    tables = {
        key: {" ".join(fold(w).split()): v for w, v in value.items()}
        for key, value in checked.items()
        if key in FACT_TABLES
    }
    return FactWords(lists, tables)


def read_lexicon(folder: Path) -> Lexicon:
    """Merge the `[lexicon]` tables of the *.toml files in `folder` (sorted by name)."""
    languages: list[str] = []
    function_words: dict[str, frozenset[str]] = {}
    number_words: dict[str, int] = {}
    money_words: dict[str, str] = {}
    false_friends: set[str] = set()
    english_false_friends: dict[str, frozenset[str]] = {}
    stop_words: set[str] = set()
    facts: dict[str, FactWords] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"rules file {path}: cannot read its lexicon: {exc}") from None
        if "lexicon" not in document:
            continue
        lang = document.get("language")
        if not isinstance(lang, str) or not lang or lang == "*":
            raise ConfigError(f'rules file {path}: a lexicon needs the file\'s own language = "xx"')
        table = check_lexicon(path, document["lexicon"])
        languages.append(lang)
        # Folded like the text they are compared with (lower case, no accents; "ß" kept).
        function_words[lang] = frozenset(fold(w) for w in table.get("function_words", ()))
        number_words.update((" ".join(fold(w).split()), n) for w, n in table.get("number_words", {}).items())
        money_words.update((" ".join(fold(w).split()), c) for w, c in table.get("money_words", {}).items())
        false_friends.update(table.get("veto_false_friends", ()))
        stop_words.update(fold(w) for w in table.get("name_stop_words", ()))
        english_false_friends[lang] = frozenset(fold(w) for w in table.get("english_false_friends", ()))
        if "facts" in document:
            facts[lang] = _fact_words(check_facts(path, document["facts"]))
    if not languages:
        raise ConfigError(f"rules folder {folder}: no file has a [lexicon] table")
    return Lexicon(
        languages=tuple(languages),
        function_words=function_words,
        number_words=number_words,
        money_words=money_words,
        veto_false_friends=frozenset(false_friends),
        name_stop_words=frozenset(stop_words),
        english_false_friends=english_false_friends,
        facts=facts,
    )


def _cue_word(token: str) -> str:
    if token == "*":  # noqa: S105 (a wildcard, not a password)
        return r"[\w&]+"  # one word of a name or a title ("head of *")
    if token == "#":  # noqa: S105
        return r"\d+"
    stem, star = (token[:-1], r"\w*") if token.endswith("*") and len(token) > 1 else (token, "")
    # A hyphen may also be a space or nothing: "pre-seed" is "pre seed" and "preseed".
    return r"[\s\-]?".join(re.escape(piece) for piece in stem.split("-")) + star


def cue_pattern(words: Iterable[str]) -> str:
    """One regex alternation for a list of cue words, longest first; no word boundaries (the caller's).

    A space is any run of spaces, a hyphen inside a word is a hyphen, a space or nothing, `word*` is any
    ending, a standalone `*` is one word and `#` a number (a space before it is optional: "ep.5").
    """
    cues = {tuple(w.split()) for w in words if w.split()}
    tokens = sorted(cues, key=lambda t: (len(t), len(" ".join(t))), reverse=True)
    alternatives = []
    for words_of_cue in tokens:
        regex = ""
        for index, token in enumerate(words_of_cue):
            if index:
                regex += r"\s*" if token == "#" else r"\s+"  # noqa: S105
            regex += _cue_word(token)
        alternatives.append(regex)
    return "(?:" + "|".join(alternatives) + ")" if alternatives else "(?!)"


def bundled_lexicon_dir() -> Path:
    """The folder whose files' lexicons Listener reads: the bundled rules (config/rules)."""
    return config_dir() / "rules"


@cache
def bundled_lexicon() -> Lexicon:
    """The lexicon of the rules that ship with Listener, read once."""
    return read_lexicon(bundled_lexicon_dir())
