"""`listener export json` and `listener import FILE.json`: everything sales ops set up, in one file, losslessly.

Reps, customers with their contacts, sources (with their polling state: validators, cursor, errors, next
poll), logged interactions and snoozes. Posts, insights and digests are not in it: they are what the next
ingest and digest runs make again. The file names things, not database ids (a rep by email, a customer by
name, a source by kind and locator), in a fixed order, so export -> fresh database -> import -> export gives
the same bytes, and importing into a database that has some of it adds only what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from connectors.registry import CONNECTORS
from listener.db.schema import Customer, Interaction, Rep, Source
from listener.directory import (
    INTERACTION_KINDS,
    add_contact,
    add_customer,
    add_rep,
    check_name,
    check_tier,
    find_customer,
)
from listener.errors import BadInput, ListenerError
from listener.names import name_key

FORMAT = "listener-export"
VERSION = 1


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def export_everything(session: Session) -> str:
    """The whole setup as JSON text (ends with a newline)."""
    reps = sorted(session.scalars(select(Rep)), key=lambda r: r.email)
    loaded = select(Customer).options(
        selectinload(Customer.rep), selectinload(Customer.contacts), selectinload(Customer.sources)
    )
    customers = sorted(session.scalars(loaded), key=lambda c: (c.name_key, c.id))
    interactions: dict[int, list[Interaction]] = {}
    for interaction in session.scalars(select(Interaction)):
        interactions.setdefault(interaction.customer_id, []).append(interaction)
    emails = {rep.id: rep.email for rep in reps}
    document = {
        "format": FORMAT,
        "version": VERSION,
        "reps": [
            {
                "email": r.email,
                "name": r.name,
                "time_zone": r.time_zone,
                "digest_hour": r.digest_hour,
                "language": r.language,
                "created_at": _when(r.created_at),
            }
            for r in reps
        ],
        "customers": [
            {
                "name": c.name,
                "rep": c.rep.email,
                "domains": list(c.domains or []),
                "aliases": list(c.aliases or []),
                "customer_since": _day(c.customer_since),
                "founded_on": _day(c.founded_on),
                "interests": list(c.interests or []),
                "language": c.language,
                "touch_cadence_days": c.touch_cadence_days,
                "tier": c.tier,
                "tags": list(c.tags or []),
                "muted_until": _day(c.muted_until),
                "created_at": _when(c.created_at),
                "contacts": [
                    {"name": k.name, "role": k.role, "email": k.email, "birthday": k.birthday, "language": k.language}
                    for k in sorted(c.contacts, key=lambda k: k.name_key)
                ],
                "sources": [_source(s) for s in sorted(c.sources, key=lambda s: (s.kind, s.locator))],
                "interactions": [
                    {"rep": emails[i.rep_id], "kind": i.kind, "happened_at": _when(i.happened_at), "note": i.note}
                    for i in sorted(
                        interactions.get(c.id, []), key=lambda i: (i.happened_at, i.kind, emails[i.rep_id], i.note)
                    )
                ],
            }
            for c in customers
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _source(s: Source) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "locator": s.locator,
        "title": s.title,
        "enabled": s.enabled,
        "disabled_reason": s.disabled_reason,
        "etag": s.etag,
        "last_modified": s.last_modified,
        "cursor": s.cursor,
        "declared_lang": s.declared_lang,
        "polls": s.polls,
        "last_polled_at": _when(s.last_polled_at),
        "last_success_at": _when(s.last_success_at),
        "next_poll_at": _when(s.next_poll_at),
        "error_count": s.error_count,
        "last_error": s.last_error,
        "failing_since": _when(s.failing_since),
        "created_at": _when(s.created_at),
    }


@dataclass
class RestoreSummary:
    reps: int = 0
    customers: int = 0
    contacts: int = 0
    sources: int = 0
    interactions: int = 0
    present: int = 0  # reps, customers, contacts and sources already there


def _get(entry: Any, key: str, kind: type, where: str, default: Any = ...) -> Any:
    """entry[key] checked to be a `kind` (str, int, bool, list, dict) or null; BadInput names where it is wrong."""
    if not isinstance(entry, dict):
        raise BadInput(f"{where} is not an object")
    if key not in entry:
        if default is ...:
            raise BadInput(f"{where} has no {key!r}")
        return default
    value = entry[key]
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise BadInput(f"{where}.{key} should be {kind.__name__}, not {type(value).__name__}")
    return value


def _datetime(value: str | None, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadInput(f"{where} {value!r} is not an ISO date and time") from None
    if parsed.tzinfo is None:
        raise BadInput(f"{where} {value!r} has no time zone")
    return parsed


def _date(value: str | None, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadInput(f"{where} {value!r} is not a date (YYYY-MM-DD)") from None


def restore(session: Session, text: str, file_name: str) -> RestoreSummary:
    """Add what the export holds and the database lacks, in the caller's transaction; BadInput names the entry."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{file_name} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadInput(f"{file_name} is not a Listener export", hint="write one with `listener export json -o FILE`")
    if document.get("version") != VERSION:
        raise BadInput(f"{file_name} is a version {document.get('version')!r} export; this Listener reads {VERSION}")
    summary = RestoreSummary()
    for index, entry in enumerate(_get(document, "reps", list, "the file")):
        where = f"reps[{index}]"
        try:
            _restore_rep(session, entry, where, summary)
        except ListenerError as exc:
            raise BadInput(f"{file_name}: {where}: {exc.explain()}") from None
    for index, entry in enumerate(_get(document, "customers", list, "the file")):
        where = f"customers[{index}]"
        try:
            _restore_customer(session, entry, where, summary)
        except ListenerError as exc:
            raise BadInput(f"{file_name}: {where}: {exc.explain()}") from None
    return summary


def _restore_rep(session: Session, entry: Any, where: str, summary: RestoreSummary) -> None:
    email = _get(entry, "email", str, where)
    if session.scalar(select(Rep).where(Rep.email == email.strip().lower())) is not None:
        summary.present += 1
        return
    rep = add_rep(
        session,
        email,
        _get(entry, "name", str, where),
        time_zone=_get(entry, "time_zone", str, where, "UTC"),
        hour=_get(entry, "digest_hour", int, where, 7),
        language=_get(entry, "language", str, where, "en"),
    )
    rep.created_at = _datetime(_get(entry, "created_at", str, where, None), f"{where}.created_at") or rep.created_at
    summary.reps += 1


def _restore_customer(session: Session, entry: Any, where: str, summary: RestoreSummary) -> None:
    name = check_name(_get(entry, "name", str, where), "customer")
    customer = find_customer(session, name)
    created = customer is None
    if customer is None:
        since = _date(_get(entry, "customer_since", str, where, None), f"{where}.customer_since")
        founded = _date(_get(entry, "founded_on", str, where, None), f"{where}.founded_on")
        customer = add_customer(
            session,
            name,
            rep_email=_get(entry, "rep", str, where),
            domains=_get(entry, "domains", list, where, []),
            aliases=_get(entry, "aliases", list, where, []),
            since=_day(since),
            founded=_day(founded),
            interests=_get(entry, "interests", list, where, []),
            language=_get(entry, "language", str, where, "en"),
            cadence_days=_get(entry, "touch_cadence_days", int, where, 30),
            tier=check_tier(_get(entry, "tier", str, where, "normal")),
            tags=_get(entry, "tags", list, where, []),
        )
        customer.muted_until = _date(_get(entry, "muted_until", str, where, None), f"{where}.muted_until")
        stamp = _datetime(_get(entry, "created_at", str, where, None), f"{where}.created_at")
        customer.created_at = stamp or customer.created_at
        summary.customers += 1
    else:
        summary.present += 1
    known = {c.name_key for c in customer.contacts}
    for index, contact in enumerate(_get(entry, "contacts", list, where, [])):
        at = f"{where}.contacts[{index}]"
        contact_name = _get(contact, "name", str, at)
        if name_key(contact_name) in known:
            summary.present += 1
            continue
        added = add_contact(
            session,
            customer.name,
            contact_name,
            email=_get(contact, "email", str, at, ""),
            role=_get(contact, "role", str, at, ""),
            birthday=_get(contact, "birthday", str, at, ""),
            language=_get(contact, "language", str, at, ""),
        )
        known.add(added.name_key)
        summary.contacts += 1
    present = {(s.kind, s.locator) for s in customer.sources}
    for index, source in enumerate(_get(entry, "sources", list, where, [])):
        at = f"{where}.sources[{index}]"
        kind, locator = _get(source, "kind", str, at), _get(source, "locator", str, at)
        if kind not in CONNECTORS or not locator:
            raise BadInput(f"{at}: unknown source kind {kind!r} or empty locator")
        if (kind, locator) in present:
            summary.present += 1
            continue
        session.add(_source_row(customer, source, at))
        present.add((kind, locator))
        summary.sources += 1
    if not created:
        return  # a customer already there keeps its own history: adding it again would count calls twice
    for index, item in enumerate(_get(entry, "interactions", list, where, [])):
        at = f"{where}.interactions[{index}]"
        kind = _get(item, "kind", str, at)
        if kind not in INTERACTION_KINDS:
            raise BadInput(f"{at}: unknown interaction kind {kind!r}")
        rep = session.scalar(select(Rep).where(Rep.email == _get(item, "rep", str, at).strip().lower()))
        if rep is None:
            raise BadInput(f"{at}: no rep {item['rep']!r} in the file or the database")
        happened = _datetime(_get(item, "happened_at", str, at), f"{at}.happened_at")
        if happened is None:
            raise BadInput(f"{at}: happened_at is missing")
        session.add(
            Interaction(
                rep_id=rep.id, customer=customer, kind=kind, happened_at=happened, note=_get(item, "note", str, at, "")
            )
        )
        summary.interactions += 1
    session.flush()


def _source_row(customer: Customer, source: dict[str, Any], at: str) -> Source:
    def stamp(key: str) -> datetime | None:
        return _datetime(_get(source, key, str, at, None), f"{at}.{key}")

    return Source(
        customer=customer,
        kind=source["kind"],
        locator=source["locator"],
        title=_get(source, "title", str, at, ""),
        enabled=_get(source, "enabled", bool, at, True),
        disabled_reason=_get(source, "disabled_reason", str, at, ""),
        etag=_get(source, "etag", str, at, ""),
        last_modified=_get(source, "last_modified", str, at, ""),
        cursor=_get(source, "cursor", dict, at, {}),
        declared_lang=_get(source, "declared_lang", str, at, ""),
        polls=_get(source, "polls", int, at, 0),
        last_polled_at=stamp("last_polled_at"),
        last_success_at=stamp("last_success_at"),
        next_poll_at=stamp("next_poll_at"),
        error_count=_get(source, "error_count", int, at, 0),
        last_error=_get(source, "last_error", str, at, ""),
        failing_since=stamp("failing_since"),
        lease_owner="",
        created_at=stamp("created_at") or datetime.fromisoformat("1970-01-01T00:00:00+00:00"),
    )
