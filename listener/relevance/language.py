"""Language detection with py3langid, restricted to the languages we have rules for."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from listener.relevance.rules import LANGUAGES

_SAMPLE_CHARS = 400  # enough to tell six languages apart; keeps detection cost flat on long posts
_HINT_FLOOR = 0.05  # the declared language stands unless the text makes it this unlikely


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Loading the model takes ~100 ms: once per process, on first use, never at import time.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str, hint: str = "") -> str:
    """ISO 639-1 code of `text`, among the supported languages; `hint` (the feed's own) wins unless implausible."""
    hint = hint.strip().lower()[:2]
    sample = text[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample[:200]) < 12:
        return hint if hint in LANGUAGES else "en"
    ranked = dict(_identifier().rank(sample))
    if hint in LANGUAGES and ranked.get(hint, 0.0) >= _HINT_FLOOR:
        return hint
    return max(ranked, key=lambda lang: ranked[lang])
