"""Draft suggestions from the phrasebook (config/phrasebook/<lang>.toml): Jinja variants per category and language."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from digests.locale import canonical_tag, locale_chain
from listener.errors import ConfigError
from listener.resources import config_dir

DEFAULT_LANGUAGE = "en"
# Facts come from feeds: short, single-line strings only, so a hostile post cannot flood a suggestion.
_MAX_FACT_CHARS = 120

# Sales ops edit the phrasebook, so templates run sandboxed; output is plain text the renderer escapes later.
_ENV = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


@lru_cache(maxsize=1)
def phrasebook_dir() -> Path:
    """config/phrasebook (found once per process: it does not move)."""
    return config_dir() / "phrasebook"


@lru_cache(maxsize=32)
def _document(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"phrasebook {path} is not valid TOML: {exc}") from None


@lru_cache(maxsize=32)
def _load(path: Path) -> dict[str, tuple[Template, ...]]:
    document = _document(path)
    book: dict[str, tuple[Template, ...]] = {}
    for key, table in document.items():
        if key == "labels":  # the digest's own words, read by digests.labels
            continue
        variants = table.get("variants") if isinstance(table, dict) else None
        if not isinstance(variants, list) or not variants or not all(isinstance(v, str) for v in variants):
            raise ConfigError(f"phrasebook {path}: [{key}] needs a non-empty list of strings `variants`")
        try:
            book[key] = tuple(_ENV.from_string(v) for v in variants)
        except Exception as exc:  # a Jinja syntax error names the file and the entry
            raise ConfigError(f"phrasebook {path}: [{key}] has a template error: {exc}") from None
    return book


def languages() -> tuple[str, ...]:
    """The languages the phrasebook has files for."""
    return _languages(phrasebook_dir())


@lru_cache(maxsize=4)
def _languages(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in folder.glob("*.toml")))


def phrasebook_files(language: str) -> list[Path]:
    """The phrasebook files of a BCP 47 tag, most general first: es.toml, then es-419.toml, then es-MX.toml."""
    return list(_files(phrasebook_dir(), language))


@lru_cache(maxsize=256)
def _files(folder: Path, language: str) -> tuple[Path, ...]:
    # Cached like the files' contents (_document): looked up for every greeting of every digest otherwise.
    files = [folder / f"{name}.toml" for name in reversed(locale_chain(language))]
    found = tuple(path for path in files if path.is_file())
    return found or (folder / f"{DEFAULT_LANGUAGE}.toml",)


def phrasebook(language: str) -> dict[str, tuple[Template, ...]]:
    """The phrasebook of a tag: the language's file with its regional files laid over it (English if none)."""
    return _merged(tuple(phrasebook_files(language)))


@lru_cache(maxsize=32)
def _merged(paths: tuple[Path, ...]) -> dict[str, tuple[Template, ...]]:
    book: dict[str, tuple[Template, ...]] = {}
    for path in paths:
        book.update(_load(path))
    return book


def book_labels(language: str) -> dict[str, str]:
    """The `[labels]` table of a tag's phrasebook files, regional entries over the language's (a copy to keep)."""
    return dict(_book_labels(_files(phrasebook_dir(), language)))


@lru_cache(maxsize=64)
def _book_labels(paths: tuple[Path, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in paths:
        table = _document(path).get("labels", {})
        out.update({str(k): str(v) for k, v in table.items()})
    return out


def choose_language(*candidates: str) -> str:
    """The first candidate tag whose language the phrasebook speaks (region kept: es-MX), else English."""
    available = {name.split("-")[0] for name in languages()}
    for tag in candidates:
        tag = canonical_tag(tag)
        if tag and tag.split("-")[0] in available:
            return tag
    return DEFAULT_LANGUAGE


def base_language(tag: str) -> str:
    """`es-419` -> `es`."""
    return canonical_tag(tag).split("-")[0] or DEFAULT_LANGUAGE


def variant_index(count: int, rep: str, item_key: str, on: date, avoid: Iterable[int] = ()) -> int:
    """Pick a variant deterministically per (rep, item, date); consecutive days never repeat for one item."""
    if count <= 1:
        return 0
    seed = int.from_bytes(hashlib.sha256(f"{rep}|{item_key}".encode()).digest()[:8], "big")
    index = (seed + on.toordinal()) % count
    taken = set(avoid)
    # Prefer a variant not yet used in this digest, so two items of one category read differently.
    for step in range(count):
        candidate = (index + step) % count
        if candidate not in taken:
            return candidate
    return index


def clean_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Facts safe to put in a sentence: single-line, trimmed strings; numbers kept; empty values dropped."""
    out: dict[str, Any] = {}
    for key, value in facts.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            out[key] = value
            continue
        text = " ".join(str(value).split())[:_MAX_FACT_CHARS]
        if text:
            out[key] = text
    return out


def tidy(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Collapse whitespace and the stray spaces a missing fact leaves before punctuation; Spanish contractions."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;])\1+", r"\1", text)
    if base_language(language) == "es":
        # "saber más de el premio" -> "del premio"; a name that starts with "El" (El Economista) keeps its article.
        text = re.sub(r"\b([dD]e|[aA]) el\b", lambda m: m.group(1)[0] + ("el" if m.group(1) in "deDe" else "l"), text)
    return text.strip()


class Drafter:
    """Drafts the suggestions of one digest, remembering which variants it used per entry."""

    def __init__(self, rep_email: str, on: date, pronoun: str = "") -> None:
        self.rep_email = rep_email
        self.on = on
        self.pronoun = pronoun
        self._used: dict[tuple[str, str], list[int]] = {}

    def writer(self, feminine: str, masculine: str, neutral: str) -> str:
        """A phrasebook's way to speak as the rep: gendered only when the rep set `--pronoun`, else neutral."""
        return {"she": feminine, "he": masculine}.get(self.pronoun, neutral)

    def draft(self, entry: str, language: str, item_key: str, context: Mapping[str, Any]) -> str:
        """Render one phrasebook entry (a category, or `date`, `quiet`, `birthday`...) for one item."""
        lang = choose_language(language)
        book = phrasebook(lang)
        # A language without this entry says its own `fallback`: a customer never gets English by accident.
        variants = book.get(entry) or book.get("fallback")
        if not variants:
            raise ConfigError(f"phrasebook {lang}: no entry [{entry}] and no [fallback]")
        used = self._used.setdefault((lang, entry), [])
        index = variant_index(len(variants), self.rep_email, item_key, self.on, used)
        used.append(index)
        return tidy(variants[index].render(**context, writer=self.writer), lang)


def hello(first_name: str, customer: str, language: str) -> str:
    """The greeting that opens a message (the phrasebook's `hello` / `hello_team` labels)."""
    words = _book_labels(_files(phrasebook_dir(), choose_language(language)))  # read only: no copy
    if first_name:
        return words.get("hello", "Hi {name},").format(name=first_name)
    return words.get("hello_team", "Hi {customer} team,").format(customer=customer)
