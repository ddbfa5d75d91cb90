"""Loads the bundled demo data (data/demo.toml) into a database through the same library calls as the CLI."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from listener import directory
from listener.db.schema import Interaction

DATA_DIR = Path(__file__).resolve().parent / "data"
_RELATIVE = re.compile(r"^today([+-]\d+)d$")


def resolve_date(text: str, today: date) -> str:
    """`today+3d` / `today-400d` become ISO dates relative to today; ISO dates pass through."""
    match = _RELATIVE.match(text.strip())
    return (today + timedelta(days=int(match.group(1)))).isoformat() if match else text


@dataclass
class DemoSource:
    customer: str
    locator: str  # a feed file name (served by the demo server) or a social locator (@handle, r/sub)
    is_feed_file: bool


@dataclass
class DemoDataset:
    reps: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    sources: list[DemoSource] = field(default_factory=list)


def load_dataset(path: Path | None = None) -> DemoDataset:
    """Read demo.toml: reps, customers with contacts, sources and past interactions."""
    document = tomllib.loads((path or DATA_DIR / "demo.toml").read_text(encoding="utf-8"))
    dataset = DemoDataset(reps=list(document.get("reps", [])), customers=list(document.get("customers", [])))
    for customer in dataset.customers:
        for source in customer.get("sources", []):
            if "feed" in source:
                dataset.sources.append(DemoSource(customer["name"], source["feed"], True))
            else:
                dataset.sources.append(DemoSource(customer["name"], source["locator"], False))
    return dataset


def seed(session: Session, dataset: DemoDataset, now: datetime) -> None:
    """Create the reps, customers, contacts and past interactions (sources are added by the caller)."""
    today = now.date()
    for rep in dataset.reps:
        directory.add_rep(
            session,
            rep["email"],
            rep["name"],
            time_zone=rep.get("tz", "UTC"),
            hour=int(rep.get("hour", 7)),
            language=rep.get("lang", "en"),
            workdays=rep.get("workdays", "mon-fri"),
            pronoun=rep.get("pronoun", ""),
        )
    for item in dataset.customers:
        customer = directory.add_customer(
            session,
            item["name"],
            rep_email=item["rep"],
            domains=item.get("domains", []),
            since=resolve_date(item["since"], today) if item.get("since") else None,
            founded=resolve_date(item["founded"], today) if item.get("founded") else None,
            interests=item.get("interests", []),
            aliases=item.get("aliases", []),
            language=item.get("lang", "en"),
            cadence_days=int(item.get("cadence", 30)),
        )
        for contact in item.get("contacts", []):
            birthday = contact.get("birthday", "")
            if birthday.startswith("today"):
                birthday = resolve_date(birthday, today)[5:]
            directory.add_contact(
                session,
                customer.name,
                contact["name"],
                email=contact.get("email", ""),
                role=contact.get("role", ""),
                birthday=birthday,
                language=contact.get("lang", ""),
            )
        for past in item.get("interactions", []):
            session.add(
                Interaction(
                    rep_id=customer.rep_id,
                    customer_id=customer.id,
                    kind=past["kind"],
                    happened_at=now - timedelta(days=int(past["days_ago"])),
                    note=past.get("note", ""),
                )
            )
    session.flush()
