"""Reps, customers and contacts: the library behind `listener rep|customer|contact ...`. Validates, then writes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import email_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.db.schema import Contact, Customer, Rep
from listener.errors import AlreadyExists, BadInput, NotFound

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LANG = re.compile(r"^[a-z]{2}$")
INTERACTION_KINDS = ("congrats", "comment", "call", "meeting", "gift", "email")


def _now() -> datetime:
    return datetime.now(UTC)


def check_email(email: str) -> str:
    """A syntactically valid address (RFC 5321/5322, checked by email-validator without DNS), lower-cased.

    email-validator rather than a regex: it knows dot-atom rules (`x/../../evil@...` has two dots in a row),
    quoting, IDN domains and the control characters that would break a header or a file name."""
    email = email.strip()
    try:
        checked = email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise BadInput(f"{_printable(email)} is not an email address: {exc}", hint="use e.g. ana@example.com") from None
    return str(checked.normalized).lower()


def check_name(name: str, what: str = "name") -> str:
    """A person's or company's name on one line: control characters (CR, LF, tab, ...), line separators and
    bidirectional overrides are refused rather than cleaned, so what is stored is what was typed."""
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI_CONTROLS]
    if bad:
        raise BadInput(
            f"{what} {_printable(name)} contains control characters ({', '.join(f'U+{ord(c):04X}' for c in bad)})",
            hint="give the name on one line, without control characters",
        )
    return name


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _printable(text: str) -> str:
    """`text` quoted for a one-line message, control characters shown escaped."""
    return repr(text)


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
    lang = lang.strip().lower()
    if not _LANG.match(lang):
        raise BadInput(f"{lang!r} is not a two-letter language code", hint="use e.g. en, es, pt")
    return lang


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
    session: Session, email: str, name: str, *, time_zone: str = "UTC", hour: int = 7, language: str = "en"
) -> Rep:
    email = check_email(email)
    check_name(name, "rep name")
    if not name.strip():
        raise BadInput("a rep needs a name", hint="pass --name")
    rep = Rep(
        email=email,
        name=name.strip(),
        time_zone=check_time_zone(time_zone),
        digest_hour=check_hour(hour),
        language=check_language(language),
        created_at=_now(),
    )
    if session.scalar(select(Rep).where(Rep.email == email)) is not None:
        raise AlreadyExists(f"rep {email} already exists")
    session.add(rep)
    session.flush()
    return rep


def get_rep(session: Session, email: str) -> Rep:
    email = check_email(email)
    rep = session.scalar(select(Rep).where(Rep.email == email))
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
    session: Session, customer_name: str, name: str, *, email: str = "", role: str = "", birthday: str = ""
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
    )
    session.add(contact)
    session.flush()
    return contact
