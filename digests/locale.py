"""BCP 47 tags for the drafts: canonical case, and the chain of phrasebook files a tag reads (es-MX -> es-419 -> es)."""

from __future__ import annotations

import re

_TAG = re.compile(r"^([a-z]{2,3})(?:[-_]([a-z]{4}))?(?:[-_]([a-z]{2}|\d{3}))?$", re.IGNORECASE)
# Spanish of the Americas (UN M.49 region 419): ustedes and felicidades rather than Spain's vosotros and enhorabuena.
_LATIN_AMERICA = frozenset(
    [
        "AR",
        "BO",
        "CL",
        "CO",
        "CR",
        "CU",
        "DO",
        "EC",
        "GT",
        "HN",
        "MX",
        "NI",
        "PA",
        "PE",
        "PR",
        "PY",
        "SV",
        "US",
        "UY",
        "VE",
    ]
)
# Regions whose Portuguese is Brazil's (você) rather than Portugal's.
_BRAZIL = frozenset({"BR"})


def canonical_tag(tag: str) -> str:
    """`es_mx` -> `es-MX`, `PT-br` -> `pt-BR`; "" for anything that is not a language tag."""
    match = _TAG.match((tag or "").strip())
    if not match:
        return ""
    language, script, region = match.groups()
    parts = [language.lower()] + ([script.title()] if script else []) + ([region.upper()] if region else [])
    return "-".join(parts)


def locale_chain(tag: str) -> list[str]:
    """Phrasebook names for a tag, most specific first: es-MX -> [es-MX, es-419, es]; pt-BR -> [pt-BR, pt]."""
    tag = canonical_tag(tag)
    if not tag:
        return []
    parts = tag.split("-")
    language, region = parts[0], parts[-1] if len(parts) > 1 and not parts[-1].istitle() else ""
    chain = [tag] if tag != language else []
    if language == "es" and region in _LATIN_AMERICA:
        chain.append("es-419")
    chain.append(language)
    return list(dict.fromkeys(chain))
