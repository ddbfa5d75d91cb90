"""Language knowledge as data: the `[lexicon]` table of each bundled config/rules/<lang>.toml.

Function words (to confirm a declared language), number words (`#` in phrases, years in facts), currency
words, the veto's false friends and the words that start a sentence but are no name. They are compiled into
module-level patterns when Listener starts, so they are read once, from the bundled rules only: a new
language is one data file (its phrases and its lexicon) plus tests, and no Python.
The format is documented in config/rules/README.md ("Lexicon").
"""

from __future__ import annotations

import tomllib
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
}


@dataclass(frozen=True)
class Lexicon:
    """The language knowledge of every bundled language, merged where the code needs it merged."""

    languages: tuple[str, ...]  # in file order: the languages with rules and a lexicon
    function_words: dict[str, frozenset[str]]
    number_words: dict[str, int]
    money_words: dict[str, str]
    veto_false_friends: frozenset[str]
    name_stop_words: frozenset[str]


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
    for key in ("function_words", "veto_false_friends", "name_stop_words"):
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


def read_lexicon(folder: Path) -> Lexicon:
    """Merge the `[lexicon]` tables of the *.toml files in `folder` (sorted by name)."""
    languages: list[str] = []
    function_words: dict[str, frozenset[str]] = {}
    number_words: dict[str, int] = {}
    money_words: dict[str, str] = {}
    false_friends: set[str] = set()
    stop_words: set[str] = set()
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
    if not languages:
        raise ConfigError(f"rules folder {folder}: no file has a [lexicon] table")
    return Lexicon(
        languages=tuple(languages),
        function_words=function_words,
        number_words=number_words,
        money_words=money_words,
        veto_false_friends=frozenset(false_friends),
        name_stop_words=frozenset(stop_words),
    )


def bundled_lexicon_dir() -> Path:
    """The folder whose files' lexicons Listener reads: the bundled rules (config/rules)."""
    return config_dir() / "rules"


@cache
def bundled_lexicon() -> Lexicon:
    """The lexicon of the rules that ship with Listener, read once."""
    return read_lexicon(bundled_lexicon_dir())
