"""Reps, customers and contacts: the library behind `listener rep|customer|contact ...`. Validates, then writes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import email_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from listener.db.schema import CUSTOMER_TIERS, NAME_LENGTH, Contact, Customer, Digest, Interaction, Rep
from listener.errors import AlreadyExists, BadInput, NotFound
from listener.names import clean_name, name_key
from listener.resources import config_dir

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
    """A syntactically valid address (RFC 5321/5322, checked by email-validator without DNS), lower-cased.

    email-validator rather than a regex: it knows dot-atom rules (`x/../../evil@...` has two dots in a row),
    quoting, IDN domains and the control characters that would break a header or a file name."""
    email = email.strip()
    try:
        checked = email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise BadInput(f"{_printable(email)} is not an email address: {exc}", hint="use e.g. ana@example.com") from None
    return str(checked.normalized).lower()


def refuse_control_characters(name: str, what: str = "name") -> str:
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


def phrasebook_languages() -> tuple[str, ...]:
    """The languages Listener can write in: one phrasebook file each (config/phrasebook/<lang>.toml)."""
    return tuple(sorted(p.stem for p in (config_dir() / "phrasebook").glob("*.toml")))


def check_language(lang: str) -> str:
    """A BCP 47 tag in canonical case (`es-mx` -> `es-MX`) that Listener can write in: its own phrasebook or its
    language's (`es-MX` is written with es-419.toml or es.toml); anything else would silently become English."""
    match = _LANG.match(lang.strip())
    if not match:
        raise BadInput(f"{lang!r} is not a language tag", hint="use a BCP 47 tag, e.g. en, es, es-419, pt-BR")
    language, script, region = match.groups()
    parts = [language.lower()] + ([script.title()] if script else []) + ([region.upper()] if region else [])
    known = phrasebook_languages()
    if language.lower() not in known:
        raise BadInput(
            f"there is no phrasebook for language {lang.strip()!r}",
            hint=f"use one of {', '.join(known)}, or add config/phrasebook/{language.lower()}.toml",
        )
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


def check_name(name: str, what: str) -> str:
    """A name as stored (whitespace collapsed, NFC); empty or longer than the column is one clear error, and so
    are control characters (a name is typed on one line: CR LF would end up in mail headers and file names)."""
    name = clean_name(refuse_control_characters(name, what))
    if not name:
        raise BadInput(f"a {what} needs a name")
    if len(name) > NAME_LENGTH:
        raise BadInput(f"the {what} name is {len(name)} characters long", hint=f"use at most {NAME_LENGTH}")
    return name


def check_tier(tier: str) -> str:
    tier = tier.strip().lower()
    if tier not in CUSTOMER_TIERS:
        raise BadInput(f"tier {tier!r} is not one of {', '.join(CUSTOMER_TIERS)}")
    return tier


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
    refuse_control_characters(name, "rep name")
    if not name.strip():
        raise BadInput("a rep needs a name", hint="pass --name")
    rep = Rep(
        email=email,
        name=check_name(name, "rep"),
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


def edit_rep(
    session: Session,
    rep: Rep,
    *,
    email: str | None = None,
    name: str | None = None,
    time_zone: str | None = None,
    hour: int | None = None,
    language: str | None = None,
    workdays: str | None = None,
    pronoun: str | None = None,
) -> list[str]:
    """Change what is given; returns what changed, as "field old -> new"."""
    wanted: dict[str, object] = {}
    if email is not None:
        wanted["email"] = check_email(email)
        other = session.scalar(select(Rep).where(Rep.email == wanted["email"]))
        if other is not None and other.id != rep.id:
            raise AlreadyExists(f"rep {wanted['email']} already exists")
    if name is not None:
        wanted["name"] = check_name(name, "rep")
    if time_zone is not None:
        wanted["time_zone"] = check_time_zone(time_zone)
    if hour is not None:
        wanted["digest_hour"] = check_hour(hour)
    if language is not None:
        wanted["language"] = check_language(language)
    if workdays is not None:
        wanted["workdays"] = parse_workdays(workdays)
    if pronoun is not None:
        wanted["pronoun"] = check_pronoun(pronoun)
    changes = []
    for attribute, value in wanted.items():
        if getattr(rep, attribute) != value:
            changes.append(f"{attribute} {getattr(rep, attribute)} -> {value}")
            setattr(rep, attribute, value)
    session.flush()
    return changes


def remove_rep(session: Session, email: str, reassign_to: str | None) -> tuple[Rep, int]:
    """Remove a rep; their customers and logged interactions go to `reassign_to` (needed when they have any).

    Their digest history goes with them. Returns the rep removed and how many customers moved.
    """
    rep = get_rep(session, email)
    customers = list(rep.customers)
    interactions = list(session.scalars(select(Interaction).where(Interaction.rep_id == rep.id)))
    heir = get_rep(session, reassign_to) if reassign_to else None
    if heir is not None and heir.id == rep.id:
        raise BadInput("--reassign-to names the rep being removed", hint="name the rep who takes the customers over")
    if heir is None and (customers or interactions):
        raise BadInput(
            f"{rep.email} owns {len(customers)} customer(s)",
            hint="pass --reassign-to EMAIL to hand them (and their history) to another rep",
        )
    if heir is not None:
        for customer in customers:
            customer.rep = heir
        for interaction in interactions:
            interaction.rep_id = heir.id
    session.execute(delete(Digest).where(Digest.rep_id == rep.id))
    session.flush()
    session.delete(rep)
    session.flush()
    return rep, len(customers)


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
    tier: str = "normal",
    tags: Sequence[str] = (),
) -> Customer:
    name = check_name(name, "customer")
    if cadence_days < 1:
        raise BadInput(f"cadence {cadence_days} must be at least 1 day")
    rep = get_rep(session, rep_email)
    if find_customer(session, name) is not None:
        raise AlreadyExists(f"customer {name!r} already exists", hint="see `listener customer show`")
    customer = Customer(
        name=name,
        rep=rep,
        domains=sorted({check_domain(d) for d in domains}),
        aliases=[check_name(a, "alias") for a in aliases if a.strip()],
        customer_since=parse_date(since, "--since") if since else None,
        founded_on=parse_date(founded, "--founded") if founded else None,
        interests=[i.strip().lower() for i in interests if i.strip()],
        language=check_language(language),
        touch_cadence_days=cadence_days,
        tier=check_tier(tier),
        tags=list(dict.fromkeys(t.strip() for t in tags if t.strip())),
        created_at=_now(),
    )
    session.add(customer)
    session.flush()
    return customer


def find_customer(session: Session, name: str) -> Customer | None:
    """Lookup by name key: case, accents and Unicode forms do not matter, on any database (listener.names)."""
    return session.scalar(select(Customer).where(Customer.name_key == name_key(name)))


def get_customer(session: Session, name: str) -> Customer:
    customer = find_customer(session, name)
    if customer is None:
        raise NotFound(f"no customer named {name!r}", hint="see `listener customer list`")
    return customer


def list_customers(session: Session, rep_email: str | None = None) -> Sequence[Customer]:
    # One query per relationship, not three per customer: lists show every customer's rep and counts.
    query = (
        select(Customer)
        .options(selectinload(Customer.rep), selectinload(Customer.sources), selectinload(Customer.contacts))
        .order_by(Customer.name)
    )
    if rep_email:
        query = query.where(Customer.rep_id == get_rep(session, rep_email).id)
    return session.scalars(query).all()


def update_customer(
    session: Session,
    customer: Customer,
    *,
    name: str | None = None,
    rep: Rep | None = None,
    language: str | None = None,
    cadence_days: int | None = None,
    tier: str | None = None,
    since: str | None = None,
    founded: str | None = None,
    domains: Sequence[str] | None = None,
    aliases: Sequence[str] | None = None,
    interests: Sequence[str] | None = None,
    add_domains: Sequence[str] = (),
    add_aliases: Sequence[str] = (),
    add_interests: Sequence[str] = (),
    tags: Sequence[str] | None = None,
    add_tags: Sequence[str] = (),
) -> list[str]:
    """Change what is given (None: leave it; `domains=[]` clears); returns what changed, as "field old -> new"."""
    changes: list[str] = []

    def change(label: str, old: object, new: object) -> bool:
        if new == old:
            return False
        shown = [(", ".join(v) if isinstance(v, list) else str(v or "")) or "-" for v in (old, new)]
        changes.append(f"{label} {shown[0]} -> {shown[1]}")
        return True

    if name is not None:
        new_name = check_name(name, "customer")
        other = find_customer(session, new_name)
        if other is not None and other.id != customer.id:
            raise AlreadyExists(f"customer {other.name!r} already exists", hint="pick another name")
        if change("name", customer.name, new_name):
            customer.name = new_name
    if rep is not None and change("rep", customer.rep.email, rep.email):
        customer.rep = rep
    if language is not None and change("language", customer.language, check_language(language)):
        customer.language = check_language(language)
    if cadence_days is not None:
        if cadence_days < 1:
            raise BadInput(f"cadence {cadence_days} must be at least 1 day")
        if change("cadence", customer.touch_cadence_days, cadence_days):
            customer.touch_cadence_days = cadence_days
    if tier is not None and change("tier", customer.tier, check_tier(tier)):
        customer.tier = check_tier(tier)
    if since is not None:
        value = parse_date(since, "--since") if since else None
        if change("since", customer.customer_since, value):
            customer.customer_since = value
    if founded is not None:
        value = parse_date(founded, "--founded") if founded else None
        if change("founded", customer.founded_on, value):
            customer.founded_on = value
    current = list(customer.domains or [])
    new_domains = sorted({check_domain(d) for d in [*(domains if domains is not None else current), *add_domains]})
    if change("domains", current, new_domains):
        customer.domains = new_domains
    current = list(customer.aliases or [])
    wanted = [check_name(a, "alias") for a in (aliases if aliases is not None else current) if a.strip()]
    new_aliases = list(dict.fromkeys([*wanted, *(check_name(a, "alias") for a in add_aliases if a.strip())]))
    if change("aliases", current, new_aliases):
        customer.aliases = new_aliases
    current = list(customer.interests or [])
    wanted = [i.strip().lower() for i in (interests if interests is not None else current) if i.strip()]
    new_interests = list(dict.fromkeys([*wanted, *(i.strip().lower() for i in add_interests if i.strip())]))
    if change("interests", current, new_interests):
        customer.interests = new_interests
    current = list(customer.tags or [])
    wanted = [t.strip() for t in (tags if tags is not None else current) if t.strip()]
    new_tags = list(dict.fromkeys([*wanted, *(t.strip() for t in add_tags if t.strip())]))
    if change("tags", current, new_tags):
        customer.tags = new_tags
    session.flush()
    return changes


def get_contact(session: Session, customer_name: str, name: str) -> Contact:
    customer = get_customer(session, customer_name)
    contact = next((c for c in customer.contacts if c.name_key == name_key(name)), None)
    if contact is None:
        raise NotFound(f"{customer.name} has no contact named {name!r}", hint="see `listener contact list CUSTOMER`")
    return contact


def update_contact(
    contact: Contact,
    *,
    name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    birthday: str | None = None,
    language: str | None = None,
) -> list[str]:
    """Change what is given (None: leave it; "" clears); returns what changed."""
    changes: list[str] = []
    wanted = {
        "name": check_name(name, "contact") if name is not None else None,
        "email": (check_email(email) if email else "") if email is not None else None,
        "role": (check_name(role, "role") if role.strip() else "") if role is not None else None,
        "birthday": (parse_birthday(birthday) if birthday else "") if birthday is not None else None,
        "language": (check_language(language) if language else "") if language is not None else None,
    }
    new_key = name_key(wanted["name"]) if wanted["name"] is not None else contact.name_key
    if new_key != contact.name_key and any(c.name_key == new_key for c in contact.customer.contacts):
        raise AlreadyExists(f"{contact.customer.name} already has a contact named {wanted['name']!r}")
    for attribute, value in wanted.items():
        old = getattr(contact, attribute)
        if value is not None and value != old:
            changes.append(f"{attribute} {old or '-'} -> {value or '-'}")
            setattr(contact, attribute, value)
    return changes


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
    name = check_name(name, "contact")
    if any(c.name_key == name_key(name) for c in customer.contacts):
        raise AlreadyExists(f"{customer.name} already has a contact named {name!r}")
    contact = Contact(
        customer=customer,
        name=name,
        email=check_email(email) if email else "",
        role=check_name(role, "role") if role.strip() else "",
        birthday=parse_birthday(birthday) if birthday else "",
        language=check_language(language) if language else "",
    )
    session.add(contact)
    session.flush()
    return contact
