"""Gift ideas by interest, from config/gifts.toml, chosen deterministically per occasion."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from listener.errors import ConfigError
from listener.resources import config_dir


@lru_cache(maxsize=4)
def _catalogue(path: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"gift catalogue {path} is not valid TOML: {exc}") from None
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for interest, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"gift catalogue {path}: [{interest}] must be a table of language = [ideas]")
        out[interest.lower()] = {lang: tuple(str(i) for i in ideas) for lang, ideas in table.items() if ideas}
    return out


def catalogue() -> dict[str, dict[str, tuple[str, ...]]]:
    """Interest -> language -> ideas."""
    return _catalogue(_gifts_path())


@lru_cache(maxsize=1)
def _gifts_path() -> Path:
    return config_dir() / "gifts.toml"


def gift_idea(interests: Sequence[str], language: str, key: str) -> str:
    """One idea from the customer's interests (else `default`), stable for the same key."""
    book = catalogue()
    ideas: list[str] = []
    for interest in interests:
        table = book.get(interest.strip().lower())
        if table:
            ideas.extend(table.get(language) or table.get("en") or ())
    if not ideas:
        table = book.get("default", {})
        ideas = list(table.get(language) or table.get("en") or ())
    if not ideas:
        return ""
    digest = hashlib.sha256(key.encode()).digest()
    return ideas[int.from_bytes(digest[:4], "big") % len(ideas)]
