"""What CRM exports call things: header aliases, `--map`, owners by email or name, dates as CRMs write them.

The header aliases follow the public column layouts of the exports sales ops bring:
- HubSpot companies: "Record ID","Company name","Company Domain Name","Company owner","Create Date","Phone Number",
  "Last Activity Date","City","Country/Region","Industry" (knowledge.hubspot.com, "Export your records");
- HubSpot contacts: "Record ID","First Name","Last Name","Email","Contact owner","Job Title","Associated Company",
  "Date of birth","Preferred language";
- Salesforce account reports: "Account ID","Account Name","Account Owner","Website","Type","Last Activity",
  with the report footer ("Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved." ...);
- Salesforce contact reports: "First Name","Last Name","Account Name","Title","Email","Birthdate","Contact Owner".
tests/data/crm/README.md keeps where each test file's layout comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.db.schema import Rep
from listener.directory import get_rep
from listener.errors import BadInput, NotFound
from listener.names import name_key

CUSTOMER_FIELDS = (
    "customer", "rep", "domains", "website", "aliases", "language", "since", "founded", "interests", "cadence",
    "tier", "tags", "sources",
)  # fmt: skip
CONTACT_FIELDS = ("contact", "first_name", "last_name", "email", "role", "birthday")
FIELDS = (*CUSTOMER_FIELDS, *CONTACT_FIELDS)

_ALIASES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer", "customer name", "name", "company", "company name", "account", "account name", "organization",
        "organisation", "associated company", "empresa", "cliente", "nombre de la empresa", "nombre de cuenta",
    ),
    "rep": (
        "rep", "rep email", "owner", "owner email", "company owner", "account owner", "contact owner", "sales rep",
        "propietario", "propietario de la empresa", "propietario de la cuenta", "comercial",
    ),
    "domains": ("domains", "domain", "company domain name", "dominio", "dominios"),
    "website": ("website", "website url", "web", "web site", "sitio web", "página web"),
    "aliases": ("aliases", "alias", "also known as"),
    "language": ("language", "lang", "preferred language", "idioma"),
    "since": (
        "since", "customer since", "create date", "created date", "became a customer date", "cliente desde",
        "fecha de creación",
    ),
    "founded": ("founded", "founded on", "founding date", "fecha de fundación"),
    "interests": ("interests", "intereses"),
    "cadence": ("cadence", "cadence days", "touch cadence"),
    "tier": ("tier", "priority", "nivel"),
    "tags": ("tags", "tag", "etiquetas"),
    "sources": ("sources", "source", "feeds", "feed", "urls", "url", "rss"),
    "contact": ("contact", "contact name", "full name"),
    "first_name": ("first name", "firstname", "nombre de pila"),
    "last_name": ("last name", "lastname", "apellidos"),
    "email": ("email", "email address", "e-mail", "correo", "correo electrónico"),
    "role": ("role", "job title", "title", "cargo", "puesto"),
    "birthday": ("birthday", "birthdate", "date of birth", "cumpleaños", "fecha de nacimiento"),
}  # fmt: skip
_BY_HEADER = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}


def _header_key(header: str) -> str:
    return " ".join(header.replace("_", " ").split()).casefold()


def parse_maps(maps: Iterable[str]) -> dict[str, str]:
    """`--map "Column=field"` options as {column key: field}; a field that does not exist is one clear error."""
    mapped = {}
    for item in maps:
        column, sep, field = item.rpartition("=")
        field = field.strip().lower().replace("-", "_")
        if not sep or not column.strip():
            raise BadInput(f"--map {item!r} is not Column=field", hint='e.g. --map "Account Manager=rep"')
        if field not in (*FIELDS, "ignore"):
            raise BadInput(f"--map {item!r}: unknown field {field!r}", hint=f"fields: {', '.join(FIELDS)}, ignore")
        mapped[_header_key(column)] = field
    return mapped


def map_headers(headers: Sequence[str], maps: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """{field: column index} for the headers we know (first one wins), and the headers ignored, in file order."""
    columns: dict[str, int] = {}
    ignored = []
    for index, header in enumerate(headers):
        key = _header_key(header)
        field = maps.get(key) or _BY_HEADER.get(key)
        if field == "ignore":  # --map "Column=ignore": left out on purpose, not worth a mention
            continue
        if field is None or field in columns:
            if header.strip():
                ignored.append(header.strip())
            continue
        columns[field] = index
    unused = sorted(set(maps) - {_header_key(h) for h in headers})
    if unused:
        raise BadInput(f"--map names a column the file does not have: {unused[0]!r}", hint=f"columns: {headers}")
    return columns, ignored


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ ,T].*)?$")


def parse_any_date(text: str, *, dayfirst: bool = False, what: str = "date") -> date:
    """ISO (`2020-01-10`, `2020-01-10 10:00`), US (`3/15/2021`) or day-first (`15/03/2021`, `15.03.2021`).

    A part above 12 settles which is the day; otherwise `dayfirst` does (the CRM's locale: US is month-first).
    """
    text = text.strip()
    try:
        if match := _ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _NUMERIC.match(text):
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            year += 2000 if year < 100 else 0
            day_first = first > 12 or (dayfirst and second <= 12)
            day, month = (first, second) if day_first else (second, first)
            return date(year, month, day)
    except ValueError:
        pass
    raise BadInput(f"{what} {text!r} is not a date", hint="use YYYY-MM-DD, M/D/YYYY, or D/M/YYYY with --dayfirst")


def find_owner(session: Session, owner: str) -> Rep:
    """A rep by email, or by name as CRMs export owners ("Ana García"; case and accents do not matter)."""
    owner = owner.strip()
    if "@" in owner:
        return get_rep(session, owner)
    wanted = name_key(owner)
    matches = [rep for rep in session.scalars(select(Rep)) if name_key(rep.name) == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise BadInput(f"{len(matches)} reps are named {owner!r}", hint="write the owner's email instead")
    raise NotFound(f"no rep named {owner!r}", hint="add them with `listener rep add EMAIL --name NAME`")


# CRMs export a language as its label ("Spanish", "Español") or a locale ("es-ES", "es_MX").
_LANGUAGE_NAMES = {
    "english": "en", "inglés": "en", "ingles": "en", "spanish": "es", "español": "es", "espanol": "es",
    "castellano": "es", "portuguese": "pt", "português": "pt", "french": "fr", "français": "fr", "german": "de",
    "deutsch": "de", "italian": "it", "italiano": "it", "catalan": "ca", "català": "ca",
}  # fmt: skip


def language_code(text: str) -> str:
    """The two-letter code of a CRM's language cell ("Spanish - Spain", "es_MX", "ES" -> "es"); "" stays ""."""
    text = text.strip()
    if not text:
        return ""
    word = re.split(r"\s*[-(]\s*", text.casefold())[0].strip()
    if word in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[word]
    return re.split(r"[-_]", text)[0].strip().lower()
