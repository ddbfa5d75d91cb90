"""Fast phrase matching: index phrases by the first letters of their first word, verify only the candidates.

One big alternation of ~800 phrases makes Python's regex engine try every branch at every position (tens of
milliseconds a post). Instead each word of the post looks up the few phrases that can start there, and each
candidate is checked with its own small anchored regex: a few dozen checks a post.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from listener.relevance.numbers import SINGLE_WORDS

KEY_CHARS = 4  # phrases are filed under the first four letters of their first word
NUMBER_KEY = "#"
_WORD = re.compile(r"\w+")
_CACHE_LIMIT = 200_000
_NUMBER_WORD_SET = frozenset(SINGLE_WORDS)


@dataclass(frozen=True)
class Entry:
    """A compiled phrase: what it signals, how much it weighs, whether it hides shorter phrases it covers."""

    label: str
    weight: float
    regex: re.Pattern[str]
    consumes: bool  # categories, `ignore` and `acquired_by` take their words; other signals only observe
    text: str


def anchor_keys(folded_phrase_tokens: Sequence[str]) -> list[str] | None:
    """Index keys for a phrase (several for a leading alternation); None if it starts with a symbol.

    A key is the first four letters of the first word; a shorter whole word ("ipo", "no") is its own key,
    and a shorter prefix ("ere*") is marked with a trailing "*".
    """
    first = folded_phrase_tokens[0]
    alternatives = first[1:-1].split("|") if first.startswith("(") and "|" in first else [first]
    keys = []
    for alternative in alternatives:
        word = alternative.split()[0] if alternative.split() else ""
        if not word:
            return None
        if word[0] == "#" and not word[1:2].isalpha():
            keys.append(NUMBER_KEY)
            continue
        literal = re.split(r"[*#]", word, maxsplit=1)[0]
        run = _WORD.match(literal)
        if run is None:
            return None
        key = run.group(0)[:KEY_CHARS]
        open_ended = run.end() < len(word) and word[run.end()] in "*#"
        keys.append(key + "*" if len(key) < KEY_CHARS and open_ended else key)
    return keys


@dataclass(frozen=True)
class Bundle:
    """Phrases tried together at one position: one regex call finds the first (longest-written) that fits."""

    regex: re.Pattern[str]
    entries: tuple[Entry, ...]


def _bundles(entries: Sequence[Entry]) -> tuple[Bundle, ...]:
    consumers = sorted((e for e in entries if e.consumes), key=lambda e: -len(e.text))
    out = []
    if consumers:
        pattern = "|".join(f"(?P<e{i}>{e.regex.pattern})" for i, e in enumerate(consumers))
        out.append(Bundle(re.compile(pattern), tuple(consumers)))
    # Observers (signals such as intent or rumour) may overlap consumers, so they get their own bundle; one
    # observer a position is enough (two signals starting at the same word are rare and say the same thing).
    observers = sorted((e for e in entries if not e.consumes), key=lambda e: -len(e.text))
    if len(observers) == 1:
        out.append(Bundle(observers[0].regex, (observers[0],)))
    elif observers:
        pattern = "|".join(f"(?P<e{i}>{e.regex.pattern})" for i, e in enumerate(observers))
        out.append(Bundle(re.compile(pattern), tuple(observers)))
    return tuple(out)


def _trie_pattern(keys: Sequence[str]) -> str:
    """A regex for words starting with a key, as a character trie: one pass, no per-key branches.

    Keys of four letters and keys ending in "*" are prefixes; shorter keys must be the whole word.
    """
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key.rstrip("*"):
            node = node.setdefault(char, {})
        node["" if key.endswith("*") or len(key) >= KEY_CHARS else "$"] = {}

    def walk(node: dict[str, Any]) -> str:
        if "" in node:  # a prefix key ends here: any word going on from here is a candidate
            return ""
        branches = [re.escape(char) + walk(child) for char, child in sorted(node.items()) if char != "$"]
        if "$" in node:
            branches.append(r"(?!\w)")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return walk(root) if root else r"(?!x)x"


_ONE_WORD = re.compile(r"[\w*()|]+")  # no space, gap, number or symbol: the phrase is one word of the text
# One-word phrases that match a word, and the bundles to try there (their bound `match` and their entries).
Plan = tuple[tuple[Entry, ...], tuple[tuple[Callable[..., "re.Match[str] | None"], tuple[Entry, ...]], ...]]


def _split(entries: Sequence[Entry]) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    single = tuple(e for e in entries if _ONE_WORD.fullmatch(e.text) and "#" not in e.text and "_" not in e.text)
    return single, tuple(e for e in entries if e not in single)


class Matcher:
    """Finds the phrases of one language in a folded text: leftmost-longest for consumers, all for observers."""

    def __init__(self, indexed: dict[str, list[Entry]], scanned: list[Entry]) -> None:
        # One-word phrases ("outage", "restructur*") are decided by the word alone, once per distinct word;
        # only phrases of several words need a regex run at each occurrence.
        self.index = {key: _split(entries) for key, entries in indexed.items()}
        # Keys shorter than KEY_CHARS that came from a prefix wildcard ("ere*") must also be looked up by the
        # same number of a word's first letters.
        self.short_lengths = sorted({len(k) - 1 for k in self.index if k.endswith("*")})
        self._cache: dict[str, Plan] = {}  # word -> what to try there; words repeat across posts
        # Bundles are compiled on first use: compiling them all up front took seconds, most keys are rare.
        self._bundles: dict[str, tuple[Bundle, ...]] = {}
        # Only words that start like some phrase are looked at: the trie skips the rest at C speed.
        words = [key for key in self.index if key != NUMBER_KEY]
        digits = ""
        if NUMBER_KEY in self.index:  # phrases starting with `#` start at digits or at a number word ("ten years")
            digits = r"\d|"
            words += [w[:KEY_CHARS] for w in SINGLE_WORDS]
        self.words = re.compile(rf"(?<!\w)(?:{digits}{_trie_pattern(words)})\w*")
        # Phrases that start with a symbol ("% off", "$#", "[hiring]", "#empleo") are filed under that symbol.
        by_symbol: dict[str, list[Entry]] = {}
        for entry in scanned:
            by_symbol.setdefault(entry.text[0], []).append(entry)
        self.by_symbol = {symbol: _bundles(entries) for symbol, entries in by_symbol.items()}
        symbols = "".join(re.escape(ch) for ch in self.by_symbol)
        self.symbols = re.compile(f"[{symbols}]") if symbols else None

    def _plan_for(self, token: str) -> Plan:
        keys = {token[:KEY_CHARS], *(token[:n] + "*" for n in self.short_lengths if len(token) >= n)}
        if token[0].isdigit() or token in _NUMBER_WORD_SET:
            keys.add(NUMBER_KEY)
        words: list[Entry] = []
        tries: list[tuple[Callable[..., re.Match[str] | None], tuple[Entry, ...]]] = []
        for key in sorted(keys):  # a fixed order: ties between phrases resolve the same way in every process
            single, multi = self.index.get(key, ((), ()))
            words.extend(entry for entry in single if entry.regex.fullmatch(token))
            if multi:
                bundles = self._bundles.get(key)
                if bundles is None:
                    bundles = self._bundles[key] = _bundles(multi)
                tries.extend((bundle.regex.match, bundle.entries) for bundle in bundles)
        plan = (tuple(words), tuple(tries))
        if len(self._cache) > _CACHE_LIMIT:  # a long-running ingest sees an open vocabulary: stay bounded
            self._cache.clear()
        self._cache[token] = plan
        return plan

    def _candidates(self, folded: str) -> list[tuple[int, int, Entry]]:
        found: list[tuple[int, int, Entry]] = []
        append = found.append
        cache_get = self._cache.get
        for word in self.words.finditer(folded):
            plan = cache_get(word[0]) or self._plan_for(word[0])
            words, tries = plan
            start = word.start()
            if words:
                end = word.end()
                for entry in words:
                    append((start, end, entry))
            for match, entries in tries:
                m = match(folded, start)
                if m:
                    append((start, m.end(), entries[int(m.lastgroup[1:])] if m.lastgroup else entries[0]))
        if self.symbols is not None:
            for sym in self.symbols.finditer(folded):
                for bundle in self.by_symbol[sym.group()]:
                    m = bundle.regex.match(folded, sym.start())
                    if m:
                        entry = bundle.entries[int(m.lastgroup[1:])] if m.lastgroup else bundle.entries[0]
                        found.append((m.start(), m.end(), entry))
        return found

    def find(self, folded: str) -> list[tuple[int, int, Entry]]:
        """(start, end, entry) for each match, in text order; consumers never overlap each other."""
        found = sorted(self._candidates(folded), key=lambda c: (c[0], c[0] - c[1], -c[2].weight))
        out = []
        taken_until = -1
        for start, end, entry in found:
            if not entry.consumes:
                out.append((start, end, entry))
            elif start >= taken_until:
                out.append((start, end, entry))
                taken_until = end
        return out
