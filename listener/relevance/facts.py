"""Facts a suggestion needs, pulled from the post once its category is known (keys: see docs/relevance.md)."""

from __future__ import annotations

import re
from typing import Any

from listener.relevance.money import find_money, find_percent, find_round
from listener.relevance.text import Prepared

# A proper name: capitalised words, with the small joiners names carry ("Bank of Ireland", "Cámara de Comercio").
_CAP = r"[A-ZÁÉÍÓÚÑÜÇÀÈÌÒÙÂÊÎÔÛÄÖ0-9@][\w&'’.\-]*"
_JOIN = r"(?:of|the|and|for|de|del|la|las|los|y|e|da|do|dos|das|du|des|di|della|der|die|für|und|&|to|in)"
NAME = rf"{_CAP}(?:\s+(?:{_JOIN}\s+)?{_CAP}){{0,6}}"
_NAME_RE = re.compile(NAME)
_PERSON = r"[A-ZÁÉÍÓÚÑ][a-záéíóúñüçãõâêôàèìòù'’\-]+(?:\s+(?:de\s+la\s+|de\s+|van\s+|von\s+|da\s+|di\s+)?[A-ZÁÉÍÓÚÑ][a-záéíóúñüçãõâêôàèìòù'’\-]+){1,2}"  # noqa: E501
ROLE = re.compile(
    r"(?<!\w)(?:(?:interim|acting|new|nuevo|nueva|novo|nova|nouveau|nouvelle|neuer|neue|nuovo|nuova)\s+)?"
    r"(?:chief\s+\w+(?:\s+\w+)?\s+officer|c[eftom]o|cmo|cro|cpo|ciso|coo|"
    r"(?:senior\s+|executive\s+)?vice[- ]president(?:\s+of\s+[\w&]+(?:\s+[\w&]+)?)?|"
    r"s?vp(?:\s+of\s+[\w&]+(?:\s+[\w&]+)?)?|"
    r"head\s+of\s+[\w&]+(?:\s+[\w&]+)?|president|chair(?:man|woman|person)?|executive\s+chair(?:man)?|"
    r"managing\s+director|general\s+manager|board\s+of\s+directors|co-?founder|founder|"
    r"director(?:a)?\s+(?:general|comercial|financier[oa]|ejecutiv[oa]|de\s+\w+)|consejer[oa]\s+delegad[oa]|"
    r"presidente|presidenta|fundador(?:a)?|cofundador(?:a)?|socio\s+fundador|"
    r"diretor(?:a)?[- ](?:geral|executiv[oa]|presidente|financeir[oa])|"
    r"directeur(?:rice)?\s+g[ée]n[ée]ral(?:e)?|pr[ée]sident(?:e)?|"
    r"gesch[äa]ftsf[üu]hrer(?:in)?|vorstandsvorsitzende(?:r)?|vorstand|"
    r"amministratore\s+delegat[oa]|direttore\s+generale|presidente)(?!\w)",
    re.IGNORECASE,
)
_AWARD_CUE = re.compile(
    r"(?:named(?:\s+(?:one\s+of\s+)?(?:the\s+)?)?|won(?:\s+the)?|wins(?:\s+the)?|receive[sd]?(?:\s+the)?|"
    r"awarded(?:\s+the)?|took(?:\s+home)?(?:\s+the)?|finalist\s+for|shortlisted\s+for|"
    r"reconocid[oa]s?\s+como|recibido\s+(?:el|la)|gan[oó]\s+(?:el|la)|premio|medalla\s+de\s+\w+\s+en\s+el|"
    r"premiad[oa]\s+(?:con|como)|re[çc]oit\s+(?:le|la)|obtenir\s+le|label|ganhou\s+o|recebe\s+o|pr[eê]mio|"
    r"ausgezeichnet\s+(?:als|mit)|gewinnt\s+den|vince\s+il|premio|certified(?:\s+as)?\s+(?:an?\s+)?)\s+",
    re.IGNORECASE,
)
_BY = re.compile(
    rf"\b(?:by|from|por|de\s+parte\s+de|pela|pelo|par|von|da|at\s+the|en\s+el|at)\s+(?:the\s+|la\s+|el\s+)?({NAME})"
)
_PARTNER_CUE = re.compile(
    r"(?:with|w/|x|\+|partner(?:s|ship)?\s+(?:with\s+)?|con|com|avec|mit|selected\s+by|chosen\s+by|"
    r"picked\s+by|welcome|bienvenid[oa]s?(?:\s+a\s+bordo)?,?|conf[íi]a\s+en|contrato\s+con|contrato\s+com|"
    r"adjudicado\s+por|el\s+ayuntamiento\s+de)\s+",
    re.IGNORECASE,
)
_PLACE_CUE = re.compile(r"(?<!\w)(?:in|en|em|à|a|in|nach|to|at)\s+(?:the\s+)?(" + NAME + ")")
_EVENT_CUE = re.compile(
    r"(?:at|en|au\s+salon|au|@|speaking\s+at|booth\s+\S+\s+at|stand\s+\S+\s+(?:at|en|del)|hosts?(?:\s+the)?|"
    r"join\s+us\s+(?:at|for)|webinar:?|salon|sulla|alla|auf\s+der)\s+(?:the\s+)?",
    re.IGNORECASE,
)
_YEARS = re.compile(
    r"(?<!\w)(\d{1,3}|ten|twenty|fifteen|five|thirty|forty|fifty|hundred|diez|veinte|quince|cinco|treinta|cuarenta|"
    r"cincuenta|cien|dez|vinte|trinta|cinquenta|dix|vingt|zehn|zwanzig|dieci|venti|cinquanta)"
    r"(?:th|º|°|e|ème)?\s*(?:-|\s)?(?:years?|a[ñn]os|anos|ans|anniversaire|jahre|jahren|jubil[äa]um|anni|anniversario|anniversary)",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "cinco": 5, "diez": 10, "quince": 15, "veinte": 20, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "cien": 100, "dez": 10, "vinte": 20, "trinta": 30, "cinquenta": 50, "dix": 10, "vingt": 20, "zehn": 10,
    "zwanzig": 20, "dieci": 10, "venti": 20, "cinquanta": 50,
}  # fmt: skip
_TITLE_PREFIX = re.compile(
    r"^(?:new\s+on\s+the\s+blog|new\s+post|blog|opinion|case\s+study|guide|report|ep\.?\s*\d+|episode\s+\d+|"
    r"nuevo\s+en\s+el\s+blog|caso\s+de\s+[ée]xito|informe(?:\s+\d{4})?|gu[íi]a|art[íi]culo)\s*[:\-–—|]\s*",
    re.IGNORECASE,
)
_STOP_NAMES = {"we", "our", "the", "today", "this", "it", "hoy", "desde", "nuestro", "nuestra", "a", "el", "la"}


def _name_after(pattern: re.Pattern[str], text: str, group: int = 0) -> str:
    for m in pattern.finditer(text):
        after = text[m.end() :] if group == 0 else None
        found = _NAME_RE.match(after) if after is not None else None
        if found is None and group:
            return m.group(group).strip()
        if found and found.group(0).lower() not in _STOP_NAMES:
            return found.group(0).strip(" .,'’")
    return ""


def _person_and_role(text: str) -> dict[str, Any]:
    role = ROLE.search(text)
    if not role:
        return {}
    facts: dict[str, Any] = {"role": role.group(0).strip()}
    # The person is the nearest personal name on either side of the role, within one clause.
    window_start = max(0, role.start() - 80)
    before = list(re.finditer(_PERSON, text[window_start : role.start()]))
    after = re.search(_PERSON, text[role.end() : role.end() + 60])
    if after and (not before or len(text[role.end() : role.end() + after.start()]) < 15):
        facts["person"] = after.group(0)
    elif before:
        facts["person"] = before[-1].group(0)
    return facts


def _topic(prepared: Prepared) -> str:
    headline = prepared.original[: prepared.headline_end].strip()
    topic = _TITLE_PREFIX.sub("", headline).strip(" .!:;—-")
    if len(topic) > 100:
        topic = topic[:100].rsplit(" ", 1)[0] + "…"
    return topic


def extract_facts(prepared: Prepared, category: str, lang: str) -> dict[str, Any]:
    """The facts worth quoting for this category; keys absent when not found."""
    text = prepared.original
    facts: dict[str, Any] = {}
    money = find_money(text)
    if money:
        first = money[0]
        facts.update(amount=first.text, amount_value=first.value, currency=first.currency)
    if category == "funding" and (round_label := find_round(text)):
        facts["round"] = round_label
    if (percent := find_percent(text)) and category not in ("funding",):
        facts["percent"] = percent
    if category in ("leadership", "departure"):
        facts.update(_person_and_role(text))
    elif category == "award":
        award = _name_after(_AWARD_CUE, text)
        if award:
            facts["award"] = award
            by = _BY.search(text, text.find(award) + len(award))
            if by:
                facts["award_by"] = by.group(1).strip(" .,")
    elif category in ("partnership", "customer_win", "acquisition"):
        partner = _name_after(_PARTNER_CUE, text)
        if partner:
            facts["partner"] = partner
    elif category == "expansion":
        place = _PLACE_CUE.search(text)
        if place and place.group(1).lower() not in _STOP_NAMES:
            facts["place"] = place.group(1).strip(" .,")
    elif category == "milestone":
        years = _YEARS.search(text)
        if years:
            raw = years.group(1).lower()
            facts["years"] = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, 0) or None
            if facts["years"] is None:
                del facts["years"]
    elif category == "event":
        event = _name_after(_EVENT_CUE, text)
        if event:
            facts["event"] = event
    if category in ("content", "press", "launch", "update", "event", "plan"):
        topic = _topic(prepared)
        if topic:
            facts["topic"] = topic
    return facts
