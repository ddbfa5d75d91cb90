"""Whom a draft is addressed to, and in which language: the contact for that kind of news, else the main one."""

from __future__ import annotations

import re

from digests.select import ContactInfo, CustomerInfo
from digests.suggest import choose_language

# Roles that own a kind of news, in the languages the filter covers (matched against the contact's role).
_FINANCE = r"cfo|financ|finanz|tesor|treasur"
_CHIEF = (
    r"ceo|founder|fundador|owner|due[ñn]o|president|director general|general manager|managing director|g[eé]rant|pdg"
)
_TECH = r"cto|engineer|ingenier|tech|tecnolog|it\b|sistemas|devops|platform"
_OPS = r"coo|operat|opera[cç]|log[ií]stic|supply|cadena|warehouse|almac"
_PEOPLE = r"hr\b|people|talent|recruit|rrhh|recursos humanos|personas|selecci"
_MARKETING = r"cmo|marketing|brand|marca|comunica|communications|pr\b|content"
_SALES = r"sales|ventas|comercial|business development|partnership|alianzas|vertrieb|vendite"
_PRODUCT = r"cpo|product|producto|produit|produkt"
_ROLES_FOR: dict[str, str] = {
    "funding": f"{_CHIEF}|{_FINANCE}",
    "acquisition": f"{_CHIEF}|{_FINANCE}",
    "downturn": f"{_CHIEF}|{_FINANCE}",
    "layoffs": f"{_CHIEF}|{_PEOPLE}",
    "launch": f"{_PRODUCT}|{_TECH}",
    "incident": f"{_TECH}|{_OPS}",
    "expansion": f"{_OPS}|{_CHIEF}",
    "partnership": f"{_SALES}|{_CHIEF}",
    "customer_win": f"{_SALES}|{_CHIEF}",
    "hiring": _PEOPLE,
    "press": _MARKETING,
    "content": _MARKETING,
    "event": _MARKETING,
    "award": f"{_MARKETING}|{_CHIEF}",
    "leadership": _CHIEF,
    "departure": _CHIEF,
    "legal": f"{_CHIEF}|legal|jur[ií]dic",
}
# A contact on the way out is not the one to write to, nor to invite.
DEPARTING = re.compile(
    r"stepping down|leaving|departing|outgoing|former|\bex-|saliente|de salida|se va\b|sortant|scheidend|uscente|"
    r"de sa[ií]da|a sair",
    re.IGNORECASE,
)


def staying(customer: CustomerInfo) -> list[ContactInfo]:
    """The customer's contacts, minus those whose role says they are leaving."""
    return [c for c in customer.contacts if not DEPARTING.search(c.role or "")]


def contact_for(customer: CustomerInfo, category: str = "") -> ContactInfo | None:
    """The contact whose role owns this kind of news, else the main (first) contact; never a departing one."""
    people = staying(customer)
    pattern = _ROLES_FOR.get(category)
    if pattern:
        for contact in people:
            if re.search(pattern, contact.role or "", re.IGNORECASE):
                return contact
    return people[0] if people else None


def draft_language(contact: ContactInfo | None, customer: CustomerInfo, rep_language: str) -> str:
    """The contact's language, else the customer's, else the rep's; never the post's."""
    return choose_language(contact.language if contact else "", customer.language, rep_language)


def first_name(contact: ContactInfo | None) -> str:
    return contact.name.split()[0] if contact and contact.name.split() else ""
