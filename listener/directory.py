"""Reps, customers and contacts: the library behind `listener rep|customer|contact ...`. Validates, then writes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.db.schema import Contact, Customer, Rep
from listener.errors import AlreadyExists, BadInput, NotFound

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# BCP 47, the parts a draft's wording depends on: language, optional script, optional region ("es-419", "pt-BR").
# A regex, not a library: the wording only needs the language and the region, and a tag that passes is canonicalized.
_LANG = re.compile(r"^([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|\d{3}))?$", re.IGNORECASE)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRONOUNS = ("she", "he", "they")
INTERACTION_KINDS = ("congrats", "comment", "call", "meeting", "gift", "email")


def _now() -> datetime:
    return datetime.now(UTC)


def check_email(email: str) -> str:
    email = email.strip()
    if not _EMAIL.match(email):
        raise BadInput(f"{email!r} is not an email address", hint="use e.g. ana@example.com")
    return email.lower()


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Madrid") from None
    return name


def check_hour(hour: int) -> int:
    if not 0 <= hour <= 23:
        raise BadInput(f"digest hour {hour} is not between 0 and 23")
    return hour


def check_language(lang: str) -> str:
    """A BCP 47 tag in canonical case: `es-mx` -> `es-MX`, `ZH-hant` -> `zh-Hant`."""
    match = _LANG.match(lang.strip())
    if not match:
        raise BadInput(f"{lang!r} is not a language tag", hint="use a BCP 47 tag, e.g. en, es, es-419, pt-BR")
    language, script, region = match.groups()
    parts = [language.lower()] + ([script.title()] if script else []) + ([region.upper()] if region else [])
    return "-".join(parts)


def parse_workdays(text: str) -> str:
    """`mon-fri`, `sun-thu` or `mon,wed,fri` -> the canonical `mon,tue,...` list the digest reads."""
    days: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise BadInput(f"{text!r} is not a list of work days", hint="use e.g. mon-fri, sun-thu or mon,wed,fri")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        span = (end - start) % 7
        days.extend((start + step) % 7 for step in range(span + 1))
    return ",".join(WEEKDAYS[d] for d in sorted(set(days)))


def check_pronoun(pronoun: str) -> str:
    pronoun = pronoun.strip().lower()
    if pronoun and pronoun not in PRONOUNS:
        raise BadInput(f"{pronoun!r} is not a pronoun Listener knows", hint="use she, he or they (or leave it out)")
    return pronoun


def check_domain(domain: str) -> str:
    cleaned = domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _DOMAIN.match(cleaned):
        raise BadInput(f"{domain!r} is not a domain name", hint="use e.g. acme.com (no path)")
    return cleaned


def parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{what} {text!r} is not a date", hint="use YYYY-MM-DD") from None


def parse_birthday(text: str) -> str:
    """A birthday as MM-DD (a full YYYY-MM-DD is accepted and its year dropped)."""
    text = text.strip()
    candidate = text[5:] if re.match(r"^\d{4}-\d{2}-\d{2}$", text) else text
    try:
        date.fromisoformat(f"2000-{candidate}")  # a leap year, so 02-29 is fine
    except ValueError:
        raise BadInput(f"birthday {text!r} is not a date", hint="use MM-DD, e.g. 03-14") from None
    return candidate


def add_rep(
    session: Session,
    email: str,
    name: str,
    *,
    time_zone: str = "UTC",
    hour: int = 7,
    language: str = "en",
    workdays: str = "mon-fri",
    pronoun: str = "",
) -> Rep:
    email = check_email(email)
    if not name.strip():
        raise BadInput("a rep needs a name", hint="pass --name")
    rep = Rep(
        email=email,
        name=name.strip(),
        time_zone=check_time_zone(time_zone),
        digest_hour=check_hour(hour),
        language=check_language(language),
        workdays=parse_workdays(workdays),
        pronoun=check_pronoun(pronoun),
        created_at=_now(),
    )
    if session.scalar(select(Rep).where(Rep.email == email)) is not None:
        raise AlreadyExists(f"rep {email} already exists")
    session.add(rep)
    session.flush()
    return rep


def get_rep(session: Session, email: str) -> Rep:
    rep = session.scalar(select(Rep).where(Rep.email == email.strip().lower()))
    if rep is None:
        raise NotFound(f"no rep with email {email!r}", hint="see `listener rep list`")
    return rep


def list_reps(session: Session) -> Sequence[Rep]:
    return session.scalars(select(Rep).order_by(Rep.email)).all()


def add_customer(
    session: Session,
    name: str,
    *,
    rep_email: str,
    domains: Sequence[str] = (),
    since: str | None = None,
    interests: Sequence[str] = (),
    language: str = "en",
    cadence_days: int = 30,
    aliases: Sequence[str] = (),
    founded: str | None = None,
) -> Customer:
    name = " ".join(name.split())
    if not name:
        raise BadInput("a customer needs a name")
    if cadence_days < 1:
        raise BadInput(f"cadence {cadence_days} must be at least 1 day")
    rep = get_rep(session, rep_email)
    if find_customer(session, name) is not None:
        raise AlreadyExists(f"customer {name!r} already exists", hint="see `listener customer show`")
    customer = Customer(
        name=name,
        rep=rep,
        domains=sorted({check_domain(d) for d in domains}),
        aliases=[a.strip() for a in aliases if a.strip()],
        customer_since=parse_date(since, "--since") if since else None,
        founded_on=parse_date(founded, "--founded") if founded else None,
        interests=[i.strip().lower() for i in interests if i.strip()],
        language=check_language(language),
        touch_cadence_days=cadence_days,
        created_at=_now(),
    )
    session.add(customer)
    session.flush()
    return customer


def find_customer(session: Session, name: str) -> Customer | None:
    """Case-insensitive lookup by name."""
    wanted = " ".join(name.split()).lower()
    return session.scalar(select(Customer).where(func.lower(Customer.name) == wanted))


def get_customer(session: Session, name: str) -> Customer:
    customer = find_customer(session, name)
    if customer is None:
        raise NotFound(f"no customer named {name!r}", hint="see `listener customer list`")
    return customer


def list_customers(session: Session, rep_email: str | None = None) -> Sequence[Customer]:
    query = select(Customer).order_by(Customer.name)
    if rep_email:
        query = query.where(Customer.rep_id == get_rep(session, rep_email).id)
    return session.scalars(query).all()


def remove_customer(session: Session, name: str) -> None:
    session.delete(get_customer(session, name))


def add_contact(
    session: Session,
    customer_name: str,
    name: str,
    *,
    email: str = "",
    role: str = "",
    birthday: str = "",
    language: str = "",
) -> Contact:
    customer = get_customer(session, customer_name)
    name = " ".join(name.split())
    if not name:
        raise BadInput("a contact needs a name")
    if any(c.name.lower() == name.lower() for c in customer.contacts):
        raise AlreadyExists(f"{customer.name} already has a contact named {name!r}")
    contact = Contact(
        customer=customer,
        name=name,
        email=check_email(email) if email else "",
        role=role.strip(),
        birthday=parse_birthday(birthday) if birthday else "",
        language=check_language(language) if language else "",
    )
    session.add(contact)
    session.flush()
    return contact
