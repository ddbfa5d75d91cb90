"""Facts a suggestion needs, pulled from the post once its category is known.

Keys: amount, amount_value, currency, round, percent, role, person, award, award_by, partner, product, place,
event, years, topic.

Cue words are searched in the folded text (lower case, no accents) without IGNORECASE, which is several times
faster; names are then read from the original text at the same offsets, with their capitals.
"""

from __future__ import annotations

import re
from typing import Any

from listener.relevance.lexicon import bundled_lexicon
from listener.relevance.money import find_money, find_percent, find_round
from listener.relevance.numbers import NUMBER_WORDS, number_value
from listener.relevance.text import Prepared

# Cue patterns check the word boundary once, before the alternation: a `\b` inside every branch makes the
# regex engine try each branch at each position (150 µs a post instead of 8).
# A proper name: capitalised words, with the small joiners names carry ("Bank of Ireland", "Cámara de Comercio").
_CAP = r"(?:[A-ZÁÉÍÓÚÑÜÇÀÈÌÒÙÂÊÎÔÛÄÖ0-9][\w&'’.\-]*|@\w+)"
_JOIN = r"(?:of|the|and|for|de|del|la|las|los|y|e|da|do|dos|das|du|des|di|della|der|die|für|und|&|to|in)"
NAME = re.compile(rf"{_CAP}(?:\s+(?:{_JOIN}\s+)?{_CAP}){{0,6}}")
_LOWER = "a-záéíóúñüçãõâêôàèìòùäöß'’\\-"
PERSON = re.compile(
    rf"[A-ZÁÉÍÓÚÑÄÖÜ][{_LOWER}]+(?:\s+(?:de\s+la\s+|de\s+|van\s+|von\s+|da\s+|di\s+)?[A-ZÁÉÍÓÚÑÄÖÜ][{_LOWER}]+){{1,2}}"
)
ROLE = re.compile(
    r"(?<!\w)(?:(?:interim|acting|new|nuevo|nueva|novo|nova|nouveau|nouvelle|neuer|neue|nuovo|nuova)\s+)?"
    r"(?:chief\s+\w+(?:\s+\w+)?\s+officer|ceo|cfo|cto|coo|cmo|cro|cpo|ciso|"
    r"(?:senior\s+|executive\s+)?vice[- ]president(?:\s+of\s+[\w&]+(?:\s+[\w&]+)?)?|"
    r"s?vp(?:\s+of\s+[\w&]+(?:\s+[\w&]+)?)?|"
    r"head\s+of\s+[\w&]+(?:\s+[\w&]+)?|executive\s+chair(?:man)?|chair(?:man|woman|person)?|president[ea]?|"
    r"managing\s+director|general\s+manager|board\s+of\s+directors|co-?founder|founder|"
    r"director(?:a)?\s+(?:general|comercial|financier[oa]|ejecutiv[oa]|de\s+\w+)|consejer[oa]\s+delegad[oa]|"
    r"fundador(?:a)?|cofundador(?:a)?|diretor(?:a)?[- ](?:geral|executiv[oa]|presidente|financeir[oa])|"
    r"directeur(?:rice)?\s+general(?:e)?|pdg|geschaftsfuhrer(?:in)?|vorstandsvorsitzende(?:r)?|vorstand|"
    r"amministratore\s+delegat[oa]|direttore\s+generale)(?!\w)"
)
_AWARD_CUE = re.compile(
    r"(?<!\w)(?:named(?:\s+one\s+of)?(?:\s+the)?|won(?:\s+the)?|wins(?:\s+the)?|received?(?:\s+the)?|took(?:\s+home)?"
    r"(?:\s+the)?|finalist\s+for(?:\s+the)?|shortlisted\s+for(?:\s+the)?|reconocid[oa]s?\s+como|"
    r"recibido\s+(?:el|la)|gano\s+(?:el|la)|medalla\s+de\s+\w+\s+en\s+el|premiad[oa]\s+(?:con|como)|"
    r"recoit\s+(?:le|la)|obtenir\s+le|ganhou\s+o|recebe\s+o|ausgezeichnet\s+(?:als|mit)|gewinnt\s+den|"
    r"vince\s+il|certified(?:\s+as)?(?:\s+an?)?|achieves)\s+"
)
_BY = re.compile(
    r"(?<!\w)(?:by|from|por|de parte de|pela|pelo|par|von|dalla|dal|at|en|in)\s+(?:the\s+|la\s+|el\s+|le\s+)?"
)
_PARTNER_CUE = re.compile(
    r"(?<!\w)(?:with|w/|x|\+|partner(?:s|ship)?\s+(?:with\s+)?|con|com|avec|mit|selected\s+by|chosen\s+by|"
    r"picked\s+by|welcome|bienvenid[oa]s?(?:\s+a\s+bordo)?,?|confia\s+en|contrato\s+con|contrato\s+com|"
    r"adjudicado\s+por|acquired|acquires|adquiere|acquiert|ubernimmt|acquisisce|adquiriu|"
    r"customer\s+in\s+\w+\s*[.,!]?|nuevo\s+cliente\W*)\s+(?:the\s+|el\s+|la\s+|los\s+|las\s+|o\s+|a\s+)?"
)
_PRODUCT_CUE = re.compile(
    r"(?<!\w)(?:launch(?:es|ed|ing)?|introduc(?:es|ed|ing)|unveil(?:s|ed|ing)?|releas(?:es|ed|ing)|ships?|"
    r"meet|say\s+hello\s+to|presenta(?:mos)?|lanza(?:mos)?|lanzamiento\s+de|estrena(?:mos)?|lanca(?:mos)?|"
    r"apresenta|lance|presente|devoile|startet|prasentier(?:t|en)|stell(?:t|en)|lancia|presenta)\s+"
    r"(?:(?:our|the|its|their|a|an|el|la|los|las|nuestro|nuestra|o|a|nosso|nossa|le|les|notre|unser(?:e|en)?|"
    r"den|die|das|il|lo|i|nuovo|nuova)\s+)*(?:(?:all-?new|brand-?new|new|nuevo|nueva|novo|nova|nouveau|nouvelle|"
    r"neue[nrs]?|nuovo|nuova)\s+)?(?:(?:mobile\s+)?(?:app|application|aplicacion|aplicativo|platform|plataforma|plattform|"
    r"piattaforma|product|producto|produto|produkt|prodotto|feature|funcion|funcionalidad|service|servicio|tool|"
    r"herramienta|version|edition|edicion|line|linea|collection|coleccion)\s+)?"
)
_PLACE_CUE = re.compile(r"(?<!\w)(?:in|en|em|a|nach|to|at|hello,?|hola,?|abrimos en|ship\w* to)\s+(?:the\s+)?")
_EVENT_CUE = re.compile(
    r"(?<!\w)(?:speaking\s+at|booth\s+\S+\s+at|stand\s+\S+\s+(?:at|en|del)|hosts?(?:\s+the)?|join\s+us\s+(?:at|for)|"
    r"see\s+you\s+at|we're\s+at(?:\s+\S+\s+\S+\s+at)?|nos\s+vemos\s+en|estaremos\s+en|au\s+salon|salon|"
    r"webinar:?|messe|fiera|at\s+the|at|en\s+el|ran\s+the)\s+"
)
_YEAR_NUMBER = "|".join(sorted((w.replace(" ", r"\s+") for w in NUMBER_WORDS), key=len, reverse=True))
_YEARS = re.compile(
    rf"(?<!\w)(\d{{1,3}}|{_YEAR_NUMBER})(?:th|º|o|e|eme|\.)?(?:-|\s)?(?:years?|anos|ans|anniversaire|jahre|jahren|"
    r"jahriges|jahrige[sn]?|jubilaum|anni|anniversario|anniversary|aniversario)(?!\w)"
    r"|(?<!\w)(un|una|a|one|ein|uma)\s+(decade|decada|decennie|jahrzehnt|decennio)"
    r"|(?<!\w)(vent|trent|quarant|cinquant|sessant)'anni(?!\w)"
)
_ELIDED_YEARS = {"vent": 20, "trent": 30, "quarant": 40, "cinquant": 50, "sessant": 60}  # Italian "trent'anni"
_TITLE_PREFIX = re.compile(
    r"^(?:new\s+on\s+the\s+blog|new\s+post|blog|opinion|case\s+study|guide|report|ep\.?\s*\d+|episode\s+\d+|"
    r"nuevo\s+en\s+el\s+blog|caso\s+de\s+exito|informe(?:\s+\d{4})?|guia|articulo|webinar)\s*[:\-–—|]\s*"
)
_STOP_NAMES = bundled_lexicon().name_stop_words  # each language's [lexicon] name_stop_words


def _name_at(original: str, offset: int) -> str:
    found = NAME.match(original, offset)
    if found is None:
        return ""
    name = found.group(0).split("\n", 1)[0].strip(" .,'’")  # the headline ends at its line break
    return "" if name.lower() in _STOP_NAMES else name


def _name_after(cue: re.Pattern[str], prepared: Prepared) -> tuple[str, int]:
    for m in cue.finditer(prepared.folded):
        name = _name_at(prepared.original, m.end())
        if name:
            return name, m.end() + len(name)
    return "", -1


def _person_and_role(prepared: Prepared) -> dict[str, Any]:
    role = ROLE.search(prepared.folded)
    if not role:
        return {}
    text = prepared.original
    facts: dict[str, Any] = {"role": text[role.start() : role.end()]}
    # The person is the nearest personal name on either side of the role, within one clause.
    window_start = max(0, role.start() - 80)
    before = list(PERSON.finditer(text, window_start, role.start()))
    after = PERSON.search(text, role.end(), role.end() + 60)
    if after and (not before or after.start() - role.end() < 15):
        facts["person"] = after.group(0)
    elif before:
        facts["person"] = before[-1].group(0)
    return facts


def _topic(prepared: Prepared) -> str:
    headline = prepared.original[: prepared.headline_end].strip()
    prefix = _TITLE_PREFIX.match(prepared.folded)
    topic = headline[prefix.end() :] if prefix else headline
    topic = topic.strip(" .!:;—-\n")
    if len(topic) > 100:
        topic = topic[:100].rsplit(" ", 1)[0] + "…"
    return topic


def _category_facts(prepared: Prepared, category: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if category in ("leadership", "departure"):
        facts.update(_person_and_role(prepared))
    elif category == "award":
        award, end = _name_after(_AWARD_CUE, prepared)
        if award:
            facts["award"] = award
            by = _BY.search(prepared.folded, end, end + 40)
            giver = _name_at(prepared.original, by.end()) if by else ""
            if giver and giver != award:
                facts["award_by"] = giver
    elif category in ("partnership", "customer_win", "acquisition"):
        partner, _ = _name_after(_PARTNER_CUE, prepared)
        if partner:
            facts["partner"] = partner.lstrip("@")
    elif category == "launch":
        product, _ = _name_after(_PRODUCT_CUE, prepared)
        if product:
            facts["product"] = product
    elif category in ("expansion", "event"):
        place, _ = _name_after(_PLACE_CUE, prepared)
        if place:
            facts["place"] = place
        if category == "event":
            event, _ = _name_after(_EVENT_CUE, prepared)
            if event:
                facts["event"] = event
    elif category == "milestone":
        years = _YEARS.search(prepared.folded)
        if years:
            if years.group(1):
                value = number_value(years.group(1))
            elif years.group(4):
                value = _ELIDED_YEARS[years.group(4)]
            else:
                value = 10  # "a decade"
            if value:
                facts["years"] = value
    return facts


def extract_facts(prepared: Prepared, category: str, lang: str) -> dict[str, Any]:
    """The facts worth quoting for this category; keys absent when not found."""
    facts: dict[str, Any] = {}
    money = find_money(prepared.original, prepared.folded)
    if money:
        first = money[0]
        facts.update(amount=first.text, amount_value=first.value, currency=first.currency)
    if category == "funding" and (round_label := find_round(prepared.folded)):
        facts["round"] = round_label
    if "%" in prepared.original or "cent" in prepared.folded:
        percent = find_percent(prepared.folded)
        if percent:
            facts["percent"] = percent
    facts.update(_category_facts(prepared, category))
    if category in ("content", "press", "launch", "update", "event", "plan"):
        topic = _topic(prepared)
        if topic:
            facts["topic"] = topic
    return facts
