"""The relevance filter's fast paths give exactly what the plain computations give (they only save time)."""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from listener.relevance import language, money

DATA = Path(__file__).parent / "data" / "relevance"


def _labelled_texts() -> list[str]:
    texts = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts.append(f"{record.get('title', '')}\n{record['text']}")
    return texts


def test_numpy_language_walk_scores_like_py3langid_to_the_last_bit() -> None:
    if language._model_sha256() != language._MODEL_SHA256:
        pytest.skip("another py3langid model: the fast walk is not used")
    identifier = language._identifier()
    fast = language._FastIdentifier(identifier)
    rng = random.Random(7)
    alphabet = [chr(c) for c in [*range(32, 127), *range(0xA0, 0x250), 0x2019, 0x20AC, 0x1F600, 0x4E2D, 0x0416]]
    texts = [t[:300] for t in _labelled_texts()]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(300)]
    texts += ["ÜBER UNS", "x", ""]
    for text in texts:
        expected = identifier._decide(text)  # py3langid's normalised scores
        lowered = text.lower() if text.isupper() else text
        data = unicodedata.normalize("NFC", lowered).encode("utf8", errors="surrogatepass")
        scores = fast._scores(data)
        scores *= 1.0 / math.sqrt(len(data) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        assert np.array_equal(scores, expected), text
        assert fast.classify(text) == identifier.classify(text)[0], text


def test_language_detection_uses_the_fast_walk_on_the_checked_model() -> None:
    if language._model_sha256() != language._MODEL_SHA256:
        pytest.skip("another py3langid model: its own classify is used")
    assert getattr(language._classify(), "__self__", None).__class__ is language._FastIdentifier


_NUMBER_THEN_WORD_PLAIN = re.compile(
    r"\d[\d.,\s]*(?:[a-z]+\.?\s+){0,3}?(?:usd|eur|gbp|brl|mxn|cop|clp|ars|chf|dolar|dollar|euro|reais|reales|real|"
    r"pesos|libras|pounds|sterling|francs|franken)"
)


def test_possessive_number_then_currency_word_finds_the_same_texts() -> None:
    rng = random.Random(5)
    pieces = ["1", "25", "4711", "2.5", "1,000", " ", "  ", "\n", ".", ",", "usd", "euro", "euros", "real"]
    pieces += ["dollar", "million", "m", "de", "of", "the", "a", "abc.", "franken", "pesos", "us", "ollar"]
    pieces += ["٣", "²", "é"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        plain = _NUMBER_THEN_WORD_PLAIN.search(text) is None
        assert (money._NUMBER_THEN_WORD.search(text) is None) == plain, text


def test_money_search_from_the_first_digit_finds_every_amount() -> None:
    rng = random.Random(9)
    pieces = ["1", "25", "4.5", "1,000", " ", "$", "€", "£", "us$", "r$", "ca$", "mx$", "usd", "eur", "chf", "m"]
    pieces += ["bn", "k", "mil", "millones", "de", "euros", "reais", "m€", "mio.", "x", "the", ".", "%", "\u202f", "-"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 16)))
        every = [m.span() for m in money.MONEY.finditer(text)]
        digit = money._DIGIT.search(text)
        if digit is None:
            assert every == [], text
            continue
        start = max(0, digit.start() - money._BEFORE_DIGIT)
        assert [m.span() for m in money.MONEY.finditer(text, start)] == every, text
        for check in (money._NUMBER_THEN_WORD, money._CODE_THEN_NUMBER):
            assert (check.search(text, digit.start()) is None) == (check.search(text) is None), text


def test_declared_language_check_agrees_with_counting_every_language() -> None:
    def plain(sample: str, hint: str) -> bool:
        words = set(sample.split())
        mine = len(words & language._FUNCTION_WORDS[hint])
        return all(len(words & vocabulary) <= mine for vocabulary in language._FUNCTION_WORDS.values())

    vocabulary = [*sorted(language._ANY_FUNCTION_WORD), "x", "hola", "the,", "de"]
    rng = random.Random(4)
    for _ in range(20000):
        sample = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 12)))
        hint = rng.choice(list(language._FUNCTION_WORDS))
        assert language._hint_agrees(sample, hint) == plain(sample, hint), (sample, hint)
