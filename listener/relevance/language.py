"""Language detection with py3langid, restricted to the languages we have rules for.

The declared language (feed, API, customer) is checked cheaply against common function words and kept when
the text agrees; py3langid runs only when there is no hint or the text disagrees with it.

py3langid finds its features with a byte automaton walked in a Python loop, one step per byte: most of the
cost of a detection. Its automaton is an Aho-Corasick one whose states are at most _DEPTH bytes deep, so the
state after a byte depends on the last _DEPTH bytes only, and numpy computes the states of all positions at
once. The features, their order, their counts and the arithmetic after that are py3langid's own: the scores
are the same to the last bit. This holds for the model it was checked on (_MODEL_SHA256); with another model,
or if the fast path ever disagrees with py3langid on the self-check, py3langid's own classify is used.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from py3langid import langid as _langid
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from listener.relevance.lexicon import bundled_lexicon
from listener.relevance.rules import LANGUAGES
from listener.relevance.text import fold

try:  # Counter's own counting loop, in C, without Counter's overhead: same keys, same order, same counts
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a Python without it

    def _count_elements(mapping: dict[int, int], iterable: list[int]) -> None:
        for element in iterable:
            mapping[element] = mapping.get(element, 0) + 1


_SAMPLE_CHARS = 300  # enough to tell six languages apart; keeps detection cost flat on long posts
_HINT_CHARS = 200  # confirming a declared language needs less: a dozen function words
_WORD = re.compile(r"[a-z]+")  # on folded text: function words are plain ASCII
# Short, frequent and distinctive function words: enough to confirm a hint, not to detect from scratch.
# Folded like Prepared.folded (lower case, no accents), so the matcher's text can be reused; each language's
# [lexicon] function_words in config/rules/<lang>.toml.
_FUNCTION_WORDS = bundled_lexicon().function_words


# The model whose automaton was checked: every transition goes to the longest suffix of (state + byte) that
# is a state, and no state is deeper than _DEPTH bytes (so a window of the last _DEPTH bytes decides it).
_MODEL_SHA256 = "f4f4a2c3465ca1f081541037f9cac23021d68151c2f709c55ae5eedfca522963"
_DEPTH = 6
_SELF_CHECK = (
    "Acme raises $20M Series B to expand into Europe",
    "Hoy cumplimos 25 años. ¡Gracias a todos nuestros clientes!",
    "Nous ouvrons un bureau à Lyon : l'équipe s'agrandit",
    "Wir eröffnen ein neues Büro in München und stellen zehn Leute ein",
    "Abbiamo aperto una nuova sede a Milano, grazie a tutti",
    "Hoje completamos dez anos. Obrigado a todos os nossos clientes!",
    "ÜBER UNS",
    "x",
)


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Loading the model takes ~100 ms: once per process, on first use, never at import time.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


class _FastIdentifier:
    """py3langid's LanguageIdentifier.classify (norm_probs=True), with the automaton walked by numpy."""

    def __init__(self, identifier: LanguageIdentifier) -> None:
        nextmove = identifier.tk_nextmove
        self.nextmove = np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode))  # no copy (~40 MB)
        self.rowbase = np.asarray(identifier._rowbase, dtype=np.intp)
        self.output = np.asarray(identifier.tk_output, dtype=np.intp)
        # Row-major and float32: the rows of a post's features are gathered (py3langid's column-major table
        # puts the six numbers of a row 200 KB apart), and the product casts float16 to float32 first anyway.
        self.table = np.ascontiguousarray(identifier.nb_ptc, dtype=np.float32)
        self.prior = identifier.nb_pc
        self.classes = list(identifier.nb_classes)

    def classify(self, text: str) -> str:
        """The language py3langid's classify(text) names."""
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
        scores = self._scores(data)
        values = scores.tolist()
        second, top = sorted(values)[-2:]
        # py3langid normalises (scale by 1/sqrt(bytes), exp, divide by the sum): monotone, so the best
        # language stays the best unless rounding turns a near tie into an exact one. A lead of 1e-4 of the
        # score (float32 keeps 7 digits) and 1e-2 (the scale is 1/sqrt(bytes)) cannot vanish: skip it then.
        if top - second >= max(1e-2, 1e-4 * abs(top)) and math.isfinite(top) and math.isfinite(second):
            return str(self.classes[values.index(top)])
        # Otherwise its normalisation step for step, so that ties resolve the same way.
        scores *= 1.0 / math.sqrt(len(data) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        return str(self.classes[int(scores.argmax())])

    def _scores(self, data: bytes) -> np.ndarray:
        n = len(data)
        codes = np.frombuffer(data, dtype=np.uint8)
        state = np.zeros(n, dtype=np.intp)
        nextmove, rowbase = self.nextmove, self.rowbase
        # Position i reads bytes i-_DEPTH+1 .. i from the start state (fewer at the start of the text).
        for back in range(min(_DEPTH, n) - 1, -1, -1):
            state[back:] = nextmove[rowbase[state[back:]] + codes[: n - back]]
        features = self.output[state]
        # A Counter over the features in text order, as py3langid's visit_counts builds it: same keys, same
        # order (that of first occurrence), so the dot product below adds in the same order.
        visits: dict[int, int] = {}
        _count_elements(visits, features[features >= 0].tolist())
        if not visits:
            return np.full(len(self.classes), 0.0, dtype=np.float32)
        idx = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
        counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
        return np.asarray(np.log1p(counts) @ self.table[idx] + self.prior)


def _model_sha256() -> str:
    model_dir = getattr(_langid, "MODEL_DIR", None)
    path = Path(model_dir or "") / MODEL_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if model_dir and path.is_file() else ""


@lru_cache(maxsize=1)
def _classify() -> Callable[[str], str]:
    """The fastest exact way to run py3langid here: the numpy walk when its model is the checked one."""
    identifier = _identifier()

    def slow(text: str) -> str:
        return str(identifier.classify(text)[0])

    try:
        if _model_sha256() != _MODEL_SHA256 or identifier.min_confidence is not None or identifier._alias_pairs:
            return slow
        fast = _FastIdentifier(identifier)
        if all(fast.classify(text) == slow(text) for text in _SELF_CHECK):
            return fast.classify
    except (AttributeError, TypeError, ValueError):  # another py3langid: its own code, then
        pass
    return slow


_ANY_FUNCTION_WORD = frozenset().union(*_FUNCTION_WORDS.values())
_VOCABULARIES = tuple(_FUNCTION_WORDS.values())


def _hint_agrees(folded_sample: str, hint: str) -> bool:
    # Distinct function words per language: set intersections run in C, ~10x cheaper than counting in Python.
    # str.split runs in C; a word with a comma attached just does not count. The few function words of the
    # sample first: the intersections per language are then tiny.
    words = _ANY_FUNCTION_WORD.intersection(folded_sample.split())
    mine = words & _FUNCTION_WORDS[hint]
    if len(mine) == len(words):  # all of them the declared language's (or none at all): no other shows more
        return True
    # No other language may show more: a headline with no function words at all keeps its declared language.
    return all(len(words & vocabulary) <= len(mine) for vocabulary in _VOCABULARIES)


def detect_language(text: str, hint: str = "", folded: str | None = None) -> str:
    """ISO 639-1 code of `text` among the supported languages; the hint (the feed's own) wins when plausible.

    `folded` is fold(text) when the caller has it (lower case, no accents, same length).
    """
    hint = hint.strip().lower()[:2]
    sample = text[:_SAMPLE_CHARS]
    if hint in LANGUAGES and len(sample) < 16:
        return hint
    if hint in LANGUAGES:
        folded_sample = folded[:_HINT_CHARS] if folded is not None else fold(sample[:_HINT_CHARS])
        if _hint_agrees(folded_sample, hint):
            return hint
    if len(sample) < 16:  # too little text to tell
        return hint if hint in LANGUAGES else "en"
    return _classify()(sample)
