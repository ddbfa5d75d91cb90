"""Fast phrase matching: index phrases by the first letters of their first word, verify only the candidates.

One big alternation of ~800 phrases makes Python's regex engine try every branch at every position (tens of
milliseconds a post). Instead each word of the post looks up the few phrases that can start there, and each
candidate is checked with its own small anchored regex: a few dozen checks a post.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from listener.models import CATEGORIES, Kind
from listener.relevance.numbers import SINGLE_WORDS
from listener.relevance.text import fold

KEY_CHARS = 4  # phrases are filed under the first four letters of their first word
NUMBER_KEY = "#"
_WORD = re.compile(r"\w+")
_CACHE_LIMIT = 200_000
_NUMBER_WORD_SET = frozenset(SINGLE_WORDS)


# Labels whose phrases end on the first word of what they introduce ("plans to", "aims to"), and the labels of what
# they may introduce that must still be found: a challenge phrase that starts inside such a phrase and goes on past
# its end ("plans to close": "to close"). One the plan's phrase covers whole ("prepara su salida a bolsa" holds "su
# salida") stays hidden: that phrase was written to cover it.
OPEN_ENDED = frozenset({"plan"})
INTENDED = frozenset(CATEGORIES[Kind.CHALLENGE])


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """One compiled regex per pattern, shared by every language and by the rules' validation."""
    return re.compile(pattern)


@dataclass(frozen=True)
class Entry:
    """A phrase: what it signals, how much it weighs, whether it hides shorter phrases it covers.

    The regex is compiled on first use: most phrases only ever run inside a bundle's alternation, and
    compiling ~4,000 of them up front doubled the time to load the rules.
    """

    label: str
    weight: float
    pattern: str
    consumes: bool  # categories, `ignore` and `acquired_by` take their words; other signals only observe
    text: str

    @property
    def regex(self) -> re.Pattern[str]:
        return compiled(self.pattern)


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
    # How the second word of every phrase here starts ("on track", "on the": ("tr", "th")), or None when a
    # phrase has a gap, a number or a symbol there. After a single space, a word that starts otherwise
    # cannot match: checked with one str.startswith instead of a regex call. Most bundles that begin with
    # a frequent word ("on", "is", "the", "en") fail this way.
    next_words: tuple[str, ...] | None = None


_TOKEN = re.compile(r"\([^()]*\)|[^\s()]+")
_SIMPLE_WORD = re.compile(r"\w+\*?|#")  # "#": digits or a number word, then a space like any word
_JOINED_WORD = re.compile(r"[\w#]+(['\-][a-z0-9])")
_LEADING_LETTERS = re.compile(r"[a-z0-9]+")


def _first_letters(token: str) -> list[str] | None:
    """The starts of the words a phrase token can begin with, or None if it is not a plain word choice."""
    alternatives = token[1:-1].split("|") if token.startswith("(") and token.endswith(")") else [token]
    out = []
    for alternative in alternatives:
        run = _LEADING_LETTERS.match(alternative.strip())
        if run is None or alternative.strip()[0] in "#*":
            return None
        letters = run.group(0)
        out.append(letters[:1] if "s" in letters[:3] else letters[:2])  # "ss" also matches "ß"
    return out


def _next_words(entries: Sequence[Entry]) -> tuple[str, ...] | None:
    """How the word after the first one starts, for every phrase here; None if some phrase cannot say.

    A first word joined to the next by an apostrophe or a hyphen ("we're", "#-year") gives that character
    and the letter after it ("'r", "-y"): the text goes on with it where the word regex stops.
    """
    starts: set[str] = set()
    for entry in entries:
        tokens = _TOKEN.findall(fold(entry.text))
        first = tokens[0] if tokens else ""
        choices = first[1:-1].split("|") if first.startswith("(") and first.endswith(")") else [first]
        for choice in choices:
            words = choice.split()
            if not words or ("#" in words[0] and words[0] != "#"):
                return None
            if _SIMPLE_WORD.fullmatch(words[0]) is None:
                joined = _JOINED_WORD.match(words[0])
                if joined is None:
                    return None
                starts.add(joined.group(1))
                continue
            second = words[1] if len(words) > 1 else (tokens[1] if len(tokens) > 1 else "")
            letters = _first_letters(second) if second else None
            if letters is None:
                return None
            starts.update(letters)
    # "a" already covers "an": keep the shortest starts only, so a bundle is never tried twice at one place.
    return tuple(sorted(x for x in starts if not any(x != y and x.startswith(y) for y in starts)))


def _bundle(entries: Sequence[Entry]) -> Bundle:
    if len(entries) == 1:
        return Bundle(entries[0].regex, (entries[0],), _next_words(entries))
    pattern = "|".join(f"(?P<e{i}>{e.pattern})" for i, e in enumerate(entries))
    return Bundle(re.compile(pattern), tuple(entries), _next_words(entries))


def _bundles(entries: Sequence[Entry]) -> tuple[Bundle, ...]:
    consumers = sorted((e for e in entries if e.consumes), key=lambda e: -len(e.text))
    # Observers (signals such as intent or rumour) may overlap consumers, so they get their own bundle; one
    # observer a position is enough (two signals starting at the same word are rare and say the same thing).
    observers = sorted((e for e in entries if not e.consumes), key=lambda e: -len(e.text))
    # Phrases whose second word is known are bundled apart from the rest, so the cheap check can skip them.
    groups = []
    for role in (consumers, observers):
        known = [e for e in role if _next_words((e,)) is not None]
        groups += [known, [e for e in role if e not in known]]
    return tuple(_bundle(group) for group in groups if group)


def _trie_pattern(keys: Sequence[str], follows: dict[str, str] | None = None) -> str:
    """A regex for words starting with a key, as a character trie: one pass, no per-key branches.

    Keys of four letters and keys ending in "*" are prefixes; shorter keys must be the whole word. `follows`
    maps a key to a lookahead its word must satisfy (what the next word must look like).
    """
    follows = follows or {}
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key.rstrip("*"):
            node = node.setdefault(char, {})
        node["" if key.endswith("*") or len(key) >= KEY_CHARS else "$"] = {"key": key}

    def walk(node: dict[str, Any]) -> str:
        if "" in node:  # a prefix key ends here: any word going on from here is a candidate
            after = follows.get(node[""]["key"])
            return rf"\w*{after}" if after and len(node) == 1 else ""
        # Letters only: "" and "$" mark where a key ends (a key is a run of word characters, never "$").
        branches = [re.escape(char) + walk(child) for char, child in sorted(node.items()) if char not in ("", "$")]
        if "$" in node:
            branches.append(r"(?!\w)" + follows.get(node["$"]["key"], ""))
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return walk(root) if root else r"(?!x)x"


def _follows(single: Sequence[Entry], multi: Sequence[Entry], number: bool = False) -> str:
    """A lookahead for a word that only starts phrases of several words with known next words, or "".

    The words of a phrase are separated by a run of non-word characters other than a line break, or joined
    by an apostrophe or a hyphen ("we're", "#-year"): the next word must start like one of the phrases'
    next words after such a run, or the word go on like one of the joined forms. With `number`, the word
    is digits, which `#` may continue past the end of the text's word ("25,000", "1.5bn"). (Checking the
    words after the next too lets fewer words through, but doubles the regex: slower to compile and no
    faster to run.)
    """
    if single or not multi:
        return ""
    starts: set[str] = set()
    for entry in multi:
        known = _next_literals(entry)
        if known is None:
            return ""
        starts.update(known)
    if "" in starts:  # a next word that starts with "ss" (also "ß"): any word may follow
        return ""
    # The shortest starts only: "th" already admits "the".
    starts = {x for x in starts if not any(x != y and x.startswith(y) for y in starts)}
    words = "|".join(re.escape(x) for x in sorted(starts) if x[0].isalnum())
    joined = [re.escape(x) for x in sorted(starts) if not x[0].isalnum()]  # "'re", "-year"
    choices = "|".join([*([rf"[^\w\n]++(?:{words})"] if words else []), *joined])
    # A number's own digits and separators are bounded (see rules._NUMBER): unbounded, every digit of "1,1,1,…"
    # looked ahead to the text's end.
    return rf"(?=(?:[.,][\w.,]{{0,24}})?(?:{choices}))" if number else f"(?={choices})"


def _literal_starts(token: str) -> list[str] | None:
    """The literal starts of the words a phrase token can be ("track" for "track", "de", "of" for "(de|of)").

    Longer than _first_letters: the trie's lookahead can check them at C speed, and a frequent word ("the",
    "we", "to") then reaches Python only when a phrase's second word follows. Cut before "ss", which also
    matches "ß"; None if some choice does not start with a letter or a digit.
    """
    alternatives = token[1:-1].split("|") if token.startswith("(") and token.endswith(")") else [token]
    out = []
    for alternative in alternatives:
        alternative = alternative.strip()
        run = _LEADING_LETTERS.match(alternative)
        if run is None or alternative[0] in "#*":
            return None
        letters = run.group(0)
        out.append(letters[: letters.index("ss")] if "ss" in letters else letters)
    return out


def _next_literals(entry: Entry) -> list[str] | None:
    """Like _next_words for one phrase, with the whole literal start of the next word (see _literal_starts)."""
    tokens = _TOKEN.findall(fold(entry.text))
    first = tokens[0] if tokens else ""
    choices = first[1:-1].split("|") if first.startswith("(") and first.endswith(")") else [first]
    out: list[str] = []
    for choice in choices:
        words = choice.split()
        if not words or ("#" in words[0] and words[0] != "#" and words[0][1:2] not in ("-", "'")):
            return None  # "20#": the number goes on inside the text's word
        if _SIMPLE_WORD.fullmatch(words[0]) is None:
            joined = _JOINED_WORD.match(words[0])
            if joined is None:
                return None
            # "we're", "#-year": the text's word ends at "'" or "-", then the rest follows as written
            rest = _LEADING_LETTERS.match(words[0], joined.end(1))
            tail = words[0][joined.start(1) : rest.end() if rest else joined.end(1)]
            out.append(tail[: tail.index("ss")] if "ss" in tail else tail)
            continue
        second = words[1] if len(words) > 1 else (tokens[1] if len(tokens) > 1 else "")
        literals = _literal_starts(second) if second else None
        if literals is None:
            return None
        out.extend(literals)
    return out


_ONE_WORD = re.compile(r"[\w*()|]+")  # no space, gap, number or symbol: the phrase is one word of the text
# One-word phrases that match a word, and the bundles to try there (their bound `match` and their entries).
Try = tuple[Callable[..., "re.Match[str] | None"], tuple[Entry, ...]]


class Shape:
    """The phrases of several words that may start at a word, as bundles: what a word's index keys decide.

    Words with the same keys share it ("4711" and "8230": numbers that start no other key), so a new word
    of an open vocabulary costs a dictionary lookup, not a new plan.
    """

    __slots__ = ("anywhere", "by_next", "contexts", "every")

    def __init__(self, anywhere: tuple[Try, ...], by_next: dict[str, list[Entry]], every: list[Entry]):
        self.anywhere = anywhere  # tried whatever follows the word
        # The phrases by the first letters of the next word, and all of them (when the next word does not
        # follow a single space): bundled when a context needs them (Matcher._select), most never do.
        self.by_next = by_next
        self.every = every
        # What to try after the word, by the three characters that follow it (see Matcher._select); None when
        # no phrase here depends on the next word.
        self.contexts: dict[str, tuple[Try, ...]] | None = {} if every else None


# At a word: the one-word phrases it is, the bundles to try whatever follows, and the contexts (None when
# that is all) where the bundles that depend on the next word are looked up.
Plan = tuple[tuple[Entry, ...], tuple[Try, ...], "dict[str, tuple[Try, ...]] | None", Shape]
_CONTEXT_LIMIT = 5_000  # contexts remembered per shape (three characters of any script: stay bounded)
# Words looked at per text, at most: a news post has a few hundred; whatever a hostile text holds, its cost is
# bounded (the rest of a longer text is not matched).
MAX_TOKENS = 5_000


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
        # Bundles are compiled on first use (compiling them all up front took seconds, most are rare), one
        # per group of phrases: those that can start at a word and go on with a given next word.
        self._bundles: dict[tuple[int, ...], tuple[Try, ...]] = {}
        self._starts: dict[Entry, tuple[str, ...] | None] = {}
        self._shapes: dict[tuple[str, ...], Shape] = {}  # index keys -> their phrases' bundles
        # Only words that start like some phrase are looked at: the trie skips the rest at C speed. Compiled on
        # first use (a tenth of a second a language), so a process pays only for the languages its posts use.
        self._words: re.Pattern[str] | None = None
        # Phrases that start with a symbol ("% off", "$#", "[hiring]", "#empleo") are filed under that symbol.
        by_symbol: dict[str, list[Entry]] = {}
        for entry in scanned:
            by_symbol.setdefault(entry.text[0], []).append(entry)
        self.by_symbol = {symbol: _bundles(entries) for symbol, entries in by_symbol.items()}
        symbols = "".join(re.escape(ch) for ch in self.by_symbol)
        self.symbols = re.compile(f"[{symbols}]") if symbols else None

    @property
    def words(self) -> re.Pattern[str]:
        """The regex that finds the words where phrases may start (see _compile_words)."""
        return self._words or self._compile_words()

    def _compile_words(self) -> re.Pattern[str]:
        words = [key for key in self.index if key != NUMBER_KEY]
        digits = ""
        numbers: list[str] = []
        by_number: tuple[Entry, ...] = ()
        if NUMBER_KEY in self.index:  # phrases starting with `#` start at digits or at a number word ("ten years")
            by_number = self.index[NUMBER_KEY][1]
            digits = rf"\d\w*{_follows((), by_number, number=True)}|"
            numbers = [w[:KEY_CHARS] for w in SINGLE_WORDS]
        # A frequent word that only starts phrases like "on track to" or "is now live" is a candidate only when
        # the next word could continue one: the regex engine skips "on Monday" without a Python step. A number
        # word's key also starts the phrases of `#`.
        follows = {}
        for key in dict.fromkeys(words + numbers):
            single, multi = self.index.get(key, ((), ()))
            if not key.endswith("*") and (after := _follows(single, multi + by_number if key in numbers else multi)):
                follows[key] = after
        self._words = re.compile(rf"(?<!\w)(?:{digits}{_trie_pattern(words + numbers, follows)})\w*")
        return self._words

    def _plan_for(self, token: str) -> Plan:
        keys = {token[:KEY_CHARS], *(token[:n] + "*" for n in self.short_lengths if len(token) >= n)}
        if token[0].isdigit() or token in _NUMBER_WORD_SET:
            keys.add(NUMBER_KEY)
        # A fixed order: ties between phrases resolve the same way in every process.
        present = tuple(sorted(key for key in keys if key in self.index))
        shape = self._shapes.get(present)
        if shape is None:
            shape = self._shapes[present] = self._shape_for(present)
        words = tuple(entry for key in present for entry in self.index[key][0] if entry.regex.fullmatch(token))
        plan = (words, shape.anywhere, shape.contexts, shape)
        if len(self._cache) > _CACHE_LIMIT:  # a long-running ingest sees an open vocabulary: stay bounded
            self._cache.clear()
        self._cache[token] = plan
        return plan

    def _shape_for(self, keys: tuple[str, ...]) -> Shape:
        anywhere: list[Entry] = []
        by_next: dict[str, list[Entry]] = {}
        every: list[Entry] = []
        seen: set[Entry] = set()
        for key in keys:
            for entry in self.index[key][1]:
                if entry in seen:
                    continue
                seen.add(entry)
                starts = self._starts.get(entry)
                if entry not in self._starts:
                    starts = self._starts[entry] = _next_words((entry,))
                if starts is None:
                    anywhere.append(entry)
                else:
                    every.append(entry)
                    for letters in starts:
                        by_next.setdefault(letters, []).append(entry)
        return Shape(self._tries(anywhere), by_next, every)

    def _select(self, shape: Shape, context: str) -> tuple[Try, ...]:
        """The bundles to try at a word followed by `context` (its next three characters), remembered."""
        anywhere = shape.anywhere
        joint, nxt = context[:1], context[1:3]

        def by_next(letters: str) -> tuple[Try, ...]:
            return self._tries(shape.by_next.get(letters, []))

        if joint == " " and nxt[:1].isalnum():  # the usual case: pick the bundles for the next word
            tries = anywhere + by_next(nxt) + by_next(nxt[:1])
        elif joint == "'":  # "we're", "it's"
            tries = anywhere + by_next(context[:2])
        elif joint == "-":  # "5-year", "all-time"; a hyphen also separates words of a phrase
            tries = anywhere + by_next(context[:2])
            tries += by_next(nxt) + by_next(nxt[:1])
        else:
            tries = anywhere + self._tries(shape.every)
        contexts = shape.contexts
        assert contexts is not None
        if len(contexts) > _CONTEXT_LIMIT:
            contexts.clear()
        contexts[context] = tries
        return tries

    def _tries(self, entries: list[Entry]) -> tuple[Try, ...]:
        """The bundles for these phrases as (bound match, entries); compiled once per distinct group."""
        if not entries:
            return ()
        key = tuple(id(e) for e in entries)
        tries = self._bundles.get(key)
        if tries is None:
            tries = self._bundles[key] = tuple((b.regex.match, b.entries) for b in _bundles(entries))
        return tries

    def _candidates(self, folded: str) -> tuple[list[tuple[int, int, Entry]], bool]:
        """Every match in order of start, and whether symbol phrases were appended out of that order."""
        found: list[tuple[int, int, Entry]] = []
        append = found.append
        cache_get = self._cache.get
        select = self._select
        for count, word in enumerate((self._words or self._compile_words()).finditer(folded)):
            if count >= MAX_TOKENS:
                break
            token = word[0]
            plan = cache_get(token) or self._plan_for(token)
            words, tries, contexts, shape = plan
            start = word.start()
            after = start + len(token)
            if words:
                for entry in words:
                    append((start, after, entry))
            if contexts is not None:
                context = folded[after : after + 3]
                known = contexts.get(context)
                tries = select(shape, context) if known is None else known
            for match, entries in tries:
                m = match(folded, start)
                if m:
                    append((start, m.end(), entries[int(m.lastgroup[1:])] if m.lastgroup else entries[0]))
        unordered = False
        if self.symbols is not None:
            for sym in self.symbols.finditer(folded):
                for bundle in self.by_symbol[sym.group()]:
                    m = bundle.regex.match(folded, sym.start())
                    if m:
                        entry = bundle.entries[int(m.lastgroup[1:])] if m.lastgroup else bundle.entries[0]
                        found.append((m.start(), m.end(), entry))
                        unordered = True
        return found, unordered

    def find(self, folded: str) -> list[tuple[int, int, Entry]]:
        """(start, end, entry) for each match, in text order; consumers never overlap each other.

        At one start the longest consumer wins (the heavier on a tie); observers are all kept.
        """
        found, unordered = self._candidates(folded)
        if unordered:  # phrases filed under a symbol were found after the words: put them in place
            found.sort(key=itemgetter(0))
        out = []
        taken_until = -1
        taken_by = ""
        best: tuple[int, int, Entry] | None = None
        for candidate in found:
            start, end, entry = candidate
            if best is not None and start != best[0]:
                # A stated intention does not hide what is intended: in "plans to close" the plan's "to" is also
                # the closure's, and both are kept (engine.decide reads the plan of a challenge as that challenge).
                if best[0] >= taken_until or _introduced(best, taken_until, taken_by):
                    out.append(best)
                    taken_until, taken_by = max(taken_until, best[1]), best[2].label
                best = None
            if not entry.consumes:
                out.append(candidate)
            elif best is None or end > best[1] or (end == best[1] and entry.weight > best[2].weight):
                best = candidate
        if best is not None and (best[0] >= taken_until or _introduced(best, taken_until, taken_by)):
            out.append(best)
        return out


def _introduced(candidate: tuple[int, int, Entry], taken_until: int, taken_by: str) -> bool:
    """Whether a phrase overlapping the last one kept is what that open-ended phrase introduces (OPEN_ENDED)."""
    return taken_by in OPEN_ENDED and candidate[2].label in INTENDED and candidate[1] > taken_until
