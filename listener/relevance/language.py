"""Language detection with py3langid, restricted to the languages we have rules for.

The declared language (feed, API, customer) is checked cheaply against common function words and kept when
the text agrees; py3langid runs only when there is no hint or the text disagrees with it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from listener.relevance.rules import LANGUAGES

_SAMPLE_CHARS = 300  # enough to tell six languages apart; keeps detection cost flat on long posts
_WORD = re.compile(r"[^\W\d_]+")
# Short, frequent and distinctive function words: enough to confirm a hint, not to detect from scratch.
_FUNCTION_WORDS = {
    "en": {"the", "and", "of", "to", "is", "we", "our", "for", "with", "this", "are", "you", "it", "that", "on", "at"},
    "es": {"el", "los", "las", "y", "del", "que", "en", "con", "para", "por", "una", "es", "nuestro", "hoy", "desde"},
    "pt": {"o", "os", "as", "e", "do", "da", "dos", "das", "que", "em", "com", "para", "uma", "não", "nossa", "hoje"},
    "fr": {"le", "les", "et", "des", "du", "est", "une", "pour", "dans", "avec", "nous", "sur", "notre", "au", "aux"},
    "de": {"der", "die", "das", "und", "ist", "mit", "für", "wir", "ein", "eine", "den", "dem", "auf", "von", "zu"},
    "it": {"il", "gli", "e", "di", "del", "della", "che", "per", "con", "una", "sono", "nel", "alla", "dei", "è"},
}  # fmt: skip


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Loading the model takes ~100 ms: once per process, on first use, never at import time.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def _hint_agrees(sample: str, hint: str) -> bool:
    words = _WORD.findall(sample.lower())
    counts = {lang: sum(1 for w in words if w in vocab) for lang, vocab in _FUNCTION_WORDS.items()}
    return counts[hint] > 0 and counts[hint] >= max(counts.values())


def detect_language(text: str, hint: str = "") -> str:
    """ISO 639-1 code of `text` among the supported languages; the hint (the feed's own) wins when plausible."""
    hint = hint.strip().lower()[:2]
    sample = text[:_SAMPLE_CHARS]
    if hint in LANGUAGES and (len(sample) < 16 or _hint_agrees(sample, hint)):
        return hint
    if len(sample) < 16:  # too little text to tell
        return hint if hint in LANGUAGES else "en"
    lang, _ = _identifier().classify(sample)
    return str(lang)
