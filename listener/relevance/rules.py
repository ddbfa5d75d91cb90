"""Rules as data: read config/rules/*.toml, validate them with one-line errors, compile them once.

A language file holds phrases per category (strong, normal, weak) and signal phrases (negation, denial,
someone else's win, rumour, intent...). A customers file holds per-customer boost and block keywords.
The phrase syntax is documented in config/rules/README.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from listener.errors import ConfigError
from listener.models import CATEGORIES, KIND_OF_CATEGORY, Kind
from listener.relevance.lexicon import bundled_lexicon, bundled_lexicon_dir, check_facts, check_lexicon
from listener.relevance.matcher import Entry, Matcher, anchor_keys
from listener.relevance.matcher import compiled as compiled_pattern
from listener.relevance.numbers import SINGLE_WORDS
from listener.relevance.text import fold

LANGUAGES = bundled_lexicon().languages  # the bundled files with a [lexicon]: en, es, pt, fr, de, it
ANY_LANGUAGE = "*"
WEIGHTS = {"strong": 3.0, "normal": 2.0, "weak": 1.0}
SIGNALS = {
    "negation": "words that cancel a phrase that follows within three words (no, not, never)",
    "denial": "phrases that cancel every cue in their sentence (to be clear, not affected, rumours are false)",
    "other_win": "congratulating someone else: their win is not the customer's",
    "rumour": "unconfirmed news (reportedly, rumour, in talks)",
    "intent": "a stated intention: wins in that sentence become plans",
    "nomination": "a nomination, a shortlist or an entry (finalist, nominated): awards in that sentence are events",
    "celebration": "framing as a win (thrilled, huge win): being acquired then counts as acquisition",
    "acquired_by": "being acquired (acquired by, to be acquired): update unless celebrated",
    "ignore": "look-alikes that must not count (award-winning, launch week sale)",
    "asset": "buying an asset, not a company (shares, coins, a property): an acquisition becomes an update",
    "control": "a controlling stake, all the shares, a tender offer: buying those is buying the company (no asset)",
    "self": "the customer speaking (we, our): its sentences are about the customer, whoever else they name",
    "third_party": "someone else acts (companies are..., a round-up): that sentence's wins and challenges are news",
    "duration": "a count of years (an age, a loan's term, '10 years'): a milestone only beside an anniversary word",
    "anniversary": "an anniversary word (anniversary, celebrate, turns, aniversario, cumple, Jubiläum)",
    "release_note": "a changelog's structure (Bugfixes, What's Changed): its bug and removal words are no challenge",
}
CHALLENGE_CATEGORIES = frozenset(CATEGORIES[Kind.CHALLENGE])
CONSUMING_SIGNALS = {"ignore", "acquired_by"}  # these hide the shorter phrases they cover ("award-winning")
TOP_KEYS = {"language", "categories", "signals", "customers", "lexicon", "facts"}
CUSTOMER_KEYS = {"boost", "block"}


@dataclass(frozen=True)
class Phrase:
    """One phrase as written by sales ops, what it signals and how much it weighs."""

    label: str  # a category or a signal name
    weight: float
    text: str  # as written, for error messages and docs
    lang: str


@dataclass
class LanguageRules:
    """The phrases of one language, before compilation."""

    lang: str
    phrases: list[Phrase] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerRules:
    """Keywords that raise (boost) or drop (block) a customer's posts."""

    boost: re.Pattern[str] | None
    block: re.Pattern[str] | None


@dataclass(frozen=True)
class CompiledLanguage:
    """The phrases of one language (plus the English ones), indexed for fast matching, and its negation words."""

    lang: str
    matcher: Matcher
    negation: frozenset[str]  # words that cancel a phrase when among the four words before it


@dataclass(frozen=True)
class RuleSet:
    """Everything the classifier needs, compiled once."""

    languages: dict[str, CompiledLanguage]
    customers: dict[str, CustomerRules]
    sources: tuple[str, ...]  # files read, in order
    # The strong challenge phrases of every language, for the safety rule: a headline in another language
    # than the body ("Acme anuncia un ERE" over an English text) still vetoes a win.
    veto: CompiledLanguage | None = None


# Words of a phrase never reach from the headline into the body: the separator is any non-word run without a
# line break. One character class, so the regex engine's fast single-character loop runs it (an alternation
# that also stopped at ". " cost 15% of the throughput). Hits across a tweet's first sentence: see _hits.
_SEP = r"[^\w\n]+"
_GAP = rf"(?:{_SEP}\w+){{0,5}}?{_SEP}"  # a standalone `*`: up to five words in between
# "$25M", "€1.2bn", "50k": a magnitude may follow. At most 24 more digits and separators ("1,234,567,890.50" has
# 15): unbounded, a text like "1,1,1,…" made every number in it match to the text's end (quadratic).
_NUMBER = r"\d[\d.,]{0,24}(?:k|m|mm|mn|bn|b)?"
# A leading `#` also stands for a number word: "ten years", "diez años", "zehn Jahre", "quarant'anni".
_NUMBER_OR_WORD = "(?:" + _NUMBER + "|(?:" + "|".join(SINGLE_WORDS) + ")(?![a-z]))"
_NUMBER_AT_START = r"(?:\d[\d.,]{0,24}(?:k|m|mm|mn|bn|b)?|[a-z]+)"
_TOKEN = re.compile(r"\([^()]*\)|[^\s()]+")


def _word(token: str) -> str:
    piece = ""
    # German: fold() keeps "ß" (one character for one), so "schliessen" and "schließen" both match "ss|ß".
    token = token.replace("ß", "ss").replace("ss", "ß")
    for index, char in enumerate(token):
        if char == "ß":
            piece += "(?:ss|ß)"
        elif char == "*":
            piece += r"\w*"
        elif char == "#" and not token[index + 1 : index + 2].isalpha():  # "#mondaymotivation" is a hashtag
            piece += _NUMBER_OR_WORD if index == 0 else _NUMBER
        else:
            piece += re.escape(char)
    return piece


def phrase_to_regex(phrase: str) -> str:
    """Translate the sales-ops phrase syntax into a regex (see config/rules/README.md)."""
    tokens = _TOKEN.findall(fold(phrase))
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if token == "*":  # noqa: S105 (a wildcard, not a password)
            parts.append(_GAP)
            continue
        if index > 0 and tokens[index - 1] != "*":
            parts.append(_SEP if token[0].isalnum() or token[0] in "#*(" else r"\W*")
        if token.startswith("(") and token.endswith(")") and "|" in token:
            alternatives = (_SEP.join(_word(w) for w in alt.split()) for alt in token[1:-1].split("|"))
            parts.append("(?:" + "|".join(alternatives) + ")")
        else:
            parts.append(_word(token))
    if parts and tokens[0][0] in "#(" and _NUMBER_OR_WORD in parts[0]:
        # The matcher tries a phrase that starts with `#` only at digits or at a known number word, so there
        # the number word need not be spelled out again: 16 such phrases each repeating ~100 words in one
        # bundle cost ~10 us a try.
        parts[0] = parts[0].replace(_NUMBER_OR_WORD, _NUMBER_AT_START)
    body = "".join(parts)
    end = r"(?!\w)" if tokens and (tokens[-1][-1].isalnum() or tokens[-1][-1] == ")") else ""
    start = r"(?<!\w)" if tokens and (tokens[0][0].isalnum() or tokens[0][0] in "#(") else ""
    return f"{start}{body}{end}"


@cache
def phrase_pattern(phrase: str) -> str:
    """The regex of a phrase, as text; cached, since English phrases also serve every other language."""
    return phrase_to_regex(phrase)


def compile_phrase(phrase: str) -> re.Pattern[str]:
    """The compiled regex of a phrase (shared with the matcher's entries)."""
    return compiled_pattern(phrase_pattern(phrase))


# An optional choice, "(the )?" or "(a|an)?", with the stray " ?" some phrases put after it ("(la|el)? ?#").
_OPTIONAL = re.compile(r"\(([^()]*)\)\?(?: \?)?")


def expand_optional(phrase: str) -> list[str]:
    """The phrases an optional choice stands for: "by (the end of )?20#" is "by the end of 20#" and "by 20#".

    Expanded when the rules load, so the matcher only ever sees plain phrases. An optional choice must be a
    word of its own: "habla(mos)?" raises ValueError.
    """
    found = list(_OPTIONAL.finditer(phrase))
    if not found:
        return [phrase]
    for m in found:
        before = phrase[m.start() - 1 : m.start()]
        after = phrase[m.end() : m.end() + 1]
        # "(zu )?(einer |einem )?(storung|...)", "(wir )?stellen": the choices' own spaces separate words too.
        spaced_before = before in ("", " ", "?") or m.group(1).startswith(" ")
        spaced_after = after in ("", " ", "(") or m.group(1).endswith(" ") or m.group(0).endswith(" ?")
        if not (spaced_before and spaced_after):
            raise ValueError(f"the optional {m.group(0)!r} must be a word of its own")
    variants = [""]
    position = 0
    for m in found:
        choices = [c.strip() for c in m.group(1).split("|") if c.strip()]
        kept = choices[0] if len(choices) == 1 else "(" + "|".join(choices) + ")"
        head = phrase[position : m.start()]
        variants = [v + head + piece for v in variants for piece in (f" {kept} ", " ")]
        position = m.end()
    return list(dict.fromkeys(" ".join((v + phrase[position:]).split()) for v in variants))


def _fail(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"rules file {path}: {key}: {message}")


def _check_phrase(path: Path, key: str, value: Any) -> list[str]:
    """The phrase, or the phrases its optional choices stand for, each checked."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, f"a phrase must be a non-empty string, got {value!r}")
    if re.search(r"\([^()]*\(", value):
        raise _fail(path, key, f"phrase {value!r}: a choice cannot hold another choice; write two phrases")
    if re.search(r"\(\w[\w' ]*\)(?!\?)", value):
        # "(privés) de réseau" looks for the parentheses themselves (as "(m/w/d)" is meant to) and never matches
        # the words: a silent dead phrase.
        raise _fail(path, key, f"phrase {value!r}: a choice needs two alternatives or more, (a|b); write one bare")
    try:
        variants = expand_optional(value)
    except ValueError as exc:
        raise _fail(path, key, f"phrase {value!r}: {exc}") from None
    for index, variant in enumerate(variants):
        if not variant:
            raise _fail(path, key, f"phrase {value!r} matches empty text")
        if variant.split()[0] == "*":
            raise _fail(path, key, f"phrase {value!r} cannot start with a `*` gap")
        first = _TOKEN.findall(variant)[0]
        if variant.startswith("(") and "|" in first and anchor_keys(_TOKEN.findall(fold(variant))) is None:
            raise _fail(path, key, f"phrase {value!r}: each choice of a leading (a|b) must start with a word")
        if index > 0:
            # The other readings are the first one without some optional words: valid if it is, and not
            # empty (a word, a choice or a number always takes a character; a leading gap was refused above).
            continue
        try:
            pattern = compile_phrase(variant)
        except re.error as exc:
            raise _fail(path, key, f"phrase {value!r} is not a valid pattern ({exc})") from None
        if pattern.match(""):
            raise _fail(path, key, f"phrase {value!r} matches empty text")
    return variants


def _phrase_list(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _fail(path, key, f"expected a list of phrases, got {type(value).__name__}")
    return [variant for item in value for variant in _check_phrase(path, key, item)]


def read_rules_file(path: Path) -> tuple[LanguageRules | None, dict[str, CustomerRules]]:
    """Read and validate one rules file; raise ConfigError naming the file and key."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rules file {path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"rules file {path}: cannot read it: {exc.strerror}") from None
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise _fail(path, unknown[0], f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    for table, check in (("lexicon", check_lexicon), ("facts", check_facts)):
        if table in document:
            check(path, document[table])
            if path.parent.resolve() != bundled_lexicon_dir().resolve():
                # Compiled into patterns when Listener starts (number words into every phrase): bundled only.
                raise _fail(path, table, f"only the bundled rules ({bundled_lexicon_dir()}) may hold a {table} table")
    language: LanguageRules | None = None
    if "categories" in document or "signals" in document:
        lang = document.get("language")
        if lang not in (*LANGUAGES, ANY_LANGUAGE):
            raise _fail(path, "language", f"must be one of {', '.join(LANGUAGES)} or '*', got {lang!r}")
        language = LanguageRules(lang=lang)
        _read_categories(path, document.get("categories", {}), language)
        _read_signals(path, document.get("signals", {}), language)
    customers = _read_customers(path, document.get("customers", {}))
    return language, customers


def _read_categories(path: Path, table: Any, rules: LanguageRules) -> None:
    if not isinstance(table, dict):
        raise _fail(path, "categories", "must be a table of categories")
    for category, levels in table.items():
        key = f"categories.{category}"
        if category not in KIND_OF_CATEGORY:
            raise _fail(path, key, f"unknown category (known: {', '.join(KIND_OF_CATEGORY)})")
        if not isinstance(levels, dict):
            raise _fail(path, key, "must be a table with strong, normal and weak lists")
        for level, phrases in levels.items():
            if level not in WEIGHTS:
                raise _fail(path, f"{key}.{level}", f"unknown weight (known: {', '.join(WEIGHTS)})")
            for text in _phrase_list(path, f"{key}.{level}", phrases):
                rules.phrases.append(Phrase(category, WEIGHTS[level], text, rules.lang))


def _read_signals(path: Path, table: Any, rules: LanguageRules) -> None:
    if not isinstance(table, dict):
        raise _fail(path, "signals", "must be a table of phrase lists")
    for signal, phrases in table.items():
        if signal not in SIGNALS:
            raise _fail(path, f"signals.{signal}", f"unknown signal (known: {', '.join(SIGNALS)})")
        for text in _phrase_list(path, f"signals.{signal}", phrases):
            rules.phrases.append(Phrase(signal, 0.0, text, rules.lang))


def _read_customers(path: Path, table: Any) -> dict[str, CustomerRules]:
    if not isinstance(table, dict):
        raise _fail(path, "customers", "must be a table of customers")
    out: dict[str, CustomerRules] = {}
    for name, spec in table.items():
        key = f"customers.{name}"
        if not isinstance(spec, dict):
            raise _fail(path, key, "must be a table with boost and/or block lists")
        unknown = sorted(set(spec) - CUSTOMER_KEYS)
        if unknown:
            raise _fail(path, f"{key}.{unknown[0]}", "unknown key (known: boost, block)")
        boost = _phrase_list(path, f"{key}.boost", spec.get("boost", []))
        block = _phrase_list(path, f"{key}.block", spec.get("block", []))
        out[fold(name.strip())] = CustomerRules(boost=_combine(boost), block=_combine(block))
    return out


def _combine(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    return re.compile("|".join(f"(?:{phrase_to_regex(p)})" for p in phrases))


def _compile_language(lang: str, phrases: list[Phrase]) -> CompiledLanguage:
    negations = [p.text for p in phrases if p.label == "negation"]
    indexed: dict[str, list[Entry]] = {}
    scanned: list[Entry] = []
    for phrase in phrases:
        if phrase.label == "negation":
            continue
        consumes = phrase.label not in SIGNALS or phrase.label in CONSUMING_SIGNALS
        entry = Entry(phrase.label, phrase.weight, phrase_pattern(phrase.text), consumes, phrase.text)
        keys = anchor_keys(_TOKEN.findall(fold(phrase.text)))
        if keys is None:
            scanned.append(entry)
        else:
            for key in dict.fromkeys(keys):  # "(we're|we are) ..." gives the key "we" twice: file it once
                indexed.setdefault(key, []).append(entry)
    # A set lookup on the last words before a match is much cheaper than a regex search per match.
    # Whole words, contractions included ("don't"); a bare elision ("n'") is written with the word it joins.
    negation = frozenset(word for n in negations if (word := fold(n).strip()) and not word.endswith("'"))
    return CompiledLanguage(lang=lang, matcher=Matcher(indexed, scanned), negation=negation)


def rule_files(folders: Iterable[Path]) -> list[Path]:
    """The *.toml files of each folder, sorted by name, bundled folder first."""
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"rules folder {folder} does not exist", hint="check relevance.rules_dir")
        files.extend(sorted(folder.glob("*.toml")))
    return files


def load_rules(folders: Iterable[Path]) -> RuleSet:
    """Read, validate and compile every rules file in `folders`; later files add to earlier ones."""
    folders = list(folders)
    per_lang: dict[str, list[Phrase]] = {}
    customers: dict[str, CustomerRules] = {}
    files = rule_files(folders)
    for path in files:
        language, file_customers = read_rules_file(path)
        if language is not None:
            per_lang.setdefault(language.lang, []).extend(language.phrases)
        customers.update(file_customers)
    missing = [lang for lang in ("en", "es") if lang not in per_lang]
    if missing:
        raise ConfigError(f"rules: no rules for language {missing[0]!r} in {', '.join(map(str, folders))}")
    # English phrases also run on posts in other languages (tweets mix in "Series A", "launch", "webinar"):
    # compiled into each language's matcher, so a post is scanned once, not once per language.
    # Not the English negations (Portuguese "no" means "in the"), nor the English words that are ordinary words
    # of the post's language (its [lexicon] english_false_friends: Italian "le sue" is "her", not a lawsuit).
    english_cues = [p for p in per_lang["en"] if p.label != "negation"]
    compiled = {
        lang: _compile_language(
            lang, phrases if lang in ("en", ANY_LANGUAGE) else phrases + _english_for(lang, english_cues)
        )
        for lang, phrases in per_lang.items()
    }
    return RuleSet(
        languages=compiled, customers=customers, sources=tuple(str(p) for p in files), veto=_compile_veto(per_lang)
    )


def _english_for(lang: str, english_cues: list[Phrase]) -> list[Phrase]:
    """The English phrases that also run on `lang`'s posts: all but its false friends, written as one word."""
    ordinary = ENGLISH_FALSE_FRIENDS.get(lang, frozenset())
    return [p for p in english_cues if fold(p.text) not in ordinary]


ENGLISH_FALSE_FRIENDS = bundled_lexicon().english_false_friends


# Strong challenge words of one language that are ordinary words in another: never a veto on their own
# (de Brand is a fire, es jubila ~ de Jubiläum...): each language's [lexicon] veto_false_friends.
VETO_FALSE_FRIENDS = bundled_lexicon().veto_false_friends


def _compile_veto(per_lang: dict[str, list[Phrase]]) -> CompiledLanguage:
    """Strong challenge phrases and negation words of all languages, in one matcher.

    Look-alikes to ignore ("down to 5%") are not compiled in: the post's own pass has found them already.
    """
    chosen: dict[tuple[str, str], Phrase] = {}
    for phrases in per_lang.values():
        for phrase in phrases:
            challenge = phrase.label in CHALLENGE_CATEGORIES and phrase.weight >= WEIGHTS["strong"]
            if (challenge and phrase.text not in VETO_FALSE_FRIENDS) or phrase.label == "negation":
                chosen.setdefault((phrase.label, phrase.text), phrase)
    return _compile_language(ANY_LANGUAGE, list(chosen.values()))
