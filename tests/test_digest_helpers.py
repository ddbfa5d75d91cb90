"""Builders for digest tests: reps, customers, posts and insights created directly through the ORM."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from digests.model import Digest as DigestModel
from digests.model import Item
from listener.db.schema import Contact, Customer, Insight, Interaction, Post, Rep, Source

# A Monday (the default gesture weekday), 08:00 UTC: 09:00 in Madrid, 03:00 in New York.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = NOW.date()


# The old sections by what to do, as the kinds the brief's cards show (a win the filter flagged for job cuts is
# shown as news: something to comment on, never to congratulate).
_KIND_OF = {"congratulate": "win", "help": "challenge", "conversation": "news", "ask": "goal"}


def section(digest: DigestModel, key: str) -> list[Item]:
    """A section's items (by what to do, or by kind), as the cards show them."""
    kind = _KIND_OF.get(key, key)
    return [i for i in digest.items() if i.shown_kind == kind]


def add_rep(session: Session, email: str = "ana@example.com", **kw: Any) -> Rep:
    rep = Rep(
        email=email,
        name=kw.pop("name", "Ana García"),
        time_zone=kw.pop("time_zone", "Europe/Madrid"),
        digest_hour=kw.pop("digest_hour", 7),
        language=kw.pop("language", "en"),
        created_at=NOW - timedelta(days=400),
        **kw,
    )
    session.add(rep)
    session.flush()
    return rep


def add_customer(session: Session, rep: Rep, name: str, **kw: Any) -> Customer:
    customer = Customer(
        name=name,
        rep=rep,
        domains=kw.pop("domains", []),
        aliases=kw.pop("aliases", []),
        interests=kw.pop("interests", []),
        language=kw.pop("language", "en"),
        touch_cadence_days=kw.pop("touch_cadence_days", 30),
        created_at=kw.pop("created_at", NOW - timedelta(days=10)),
        **kw,
    )
    session.add(customer)
    session.flush()
    return customer


def add_contact(session: Session, customer: Customer, name: str, **kw: Any) -> Contact:
    contact = Contact(customer=customer, name=name, role=kw.get("role", ""), email=kw.get("email", ""))
    contact.birthday = kw.get("birthday", "")
    session.add(contact)
    session.flush()
    return contact


def source_for(session: Session, customer: Customer, **kw: Any) -> Source:
    existing = [s for s in customer.sources if s.locator == kw.get("locator", f"https://{customer.id}.example/feed")]
    if existing:
        return existing[0]
    source = Source(
        customer=customer,
        kind="rss",
        locator=kw.pop("locator", f"https://{customer.id}.example/feed"),
        created_at=NOW - timedelta(days=30),
        **kw,
    )
    session.add(source)
    session.flush()
    return source


def add_insight(
    session: Session,
    customer: Customer,
    kind: str,
    category: str,
    title: str,
    *,
    score: float = 0.8,
    age_hours: float = 12,
    facts: dict[str, Any] | None = None,
    evidence: list[str] | None = None,
    text: str = "",
    url: str | None = None,
    links: list[str] | None = None,
    language: str = "en",
    now: datetime = NOW,
    **post_kw: Any,
) -> Insight:
    """An insight on a post published `age_hours` before `now`: the fixed NOW for the digests tests build at NOW;
    the real time for tests whose digests are built at the real time (a CLI, a worker process), or the post falls
    out of the lookback once the calendar passes NOW."""
    source = source_for(session, customer)
    published = now - timedelta(hours=age_hours)
    key = hashlib.sha256(f"{customer.id}|{title}|{age_hours}".encode()).hexdigest()
    post = Post(
        source_id=source.id,
        customer_id=customer.id,
        external_id=key,
        canonical_url=url if url is not None else f"https://{customer.id}.example/posts/{key[:8]}",
        title=title,
        text=text or title,
        published_at=published,
        fetched_at=published + timedelta(minutes=5),
        language=language,
        content_hash=key,
        story_key=key[:16],
        links=links or [],
        **post_kw,
    )
    session.add(post)
    session.flush()
    insight = Insight(
        post=post,
        kind=kind,
        category=category,
        score=score,
        language=language,
        evidence=evidence or [],
        facts=facts or {},
        classified_at=published + timedelta(minutes=6),
    )
    session.add(insight)
    session.flush()
    return insight


def log(session: Session, customer: Customer, kind: str, days_ago: float) -> None:
    session.add(
        Interaction(rep_id=customer.rep_id, customer=customer, kind=kind, happened_at=NOW - timedelta(days=days_ago))
    )
    session.flush()


def seed_scenario(session: Session) -> Rep:
    """One rep with a realistic morning: every section, both languages, a failing source."""
    rep = add_rep(session)
    acme = add_customer(
        session, rep, "Acme Robotics", interests=["coffee"], customer_since=date(2023, 11, 26), founded_on=None
    )
    add_contact(session, acme, "Lena Park", role="CTO", email="lena@acme.example", birthday="11-27")
    add_insight(
        session, acme, "win", "funding", "Acme Robotics raises $20M Series B to scale warehouse robots",
        score=0.93, facts={"amount": "$20M", "round": "Series B"}, evidence=["raises", "Series B"],
        links=["https://news.example/acme-series-b", "javascript:alert(1)"],
    )  # fmt: skip
    add_insight(session, acme, "news", "content", "How we cut picking errors by half", score=0.7,
                facts={"topic": "cutting picking errors"}, age_hours=30)  # fmt: skip
    add_insight(session, acme, "goal", "plan", "Our 2027 plan: robots in 100 warehouses", score=0.66,
                facts={"topic": "reaching 100 warehouses by 2027"}, age_hours=24 * 20)  # fmt: skip
    log(session, acme, "call", 12)

    nimbus = add_customer(session, rep, "Nimbus Logística", language="es", interests=["cycling", "wine"],
                          founded_on=date(2016, 11, 29), touch_cadence_days=21)  # fmt: skip
    add_contact(session, nimbus, "Lucía Pérez", role="CEO", email="lucia@nimbus.example")
    add_insight(session, nimbus, "challenge", "layoffs", "Nimbus anuncia un ERE que afecta a 40 personas",
                score=0.88, language="es", evidence=["ERE"], age_hours=5)  # fmt: skip
    add_insight(session, nimbus, "win", "award", "Nimbus, premio a la mejor logística verde", score=0.71,
                language="es", facts={"award": "premio Logística Verde", "award_by": "El Economista"},
                age_hours=24 * 9)  # fmt: skip
    add_insight(session, nimbus, "news", "event", "Nos vemos en SIL Barcelona", score=0.6, language="es",
                facts={"event": "SIL Barcelona", "place": "Barcelona"}, age_hours=24 * 25)  # fmt: skip
    add_insight(session, nimbus, "goal", "plan", "Queremos ser neutros en carbono en 2028", score=0.62,
                language="es", facts={"topic": "neutralidad de carbono en 2028"}, age_hours=24 * 40)  # fmt: skip
    log(session, nimbus, "email", 60)

    globex = add_customer(session, rep, "Globex", interests=["books"], created_at=NOW - timedelta(days=200))
    add_insight(session, globex, "news", "hiring", "We're hiring a Head of Data", score=0.5, age_hours=24 * 50,
                facts={"role": "Head of Data"})  # fmt: skip
    source_for(session, globex, locator="https://globex.example/blog/feed", last_error="HTTP 404 Not Found",
               failing_since=NOW - timedelta(days=3), error_count=5)  # fmt: skip

    initech = add_customer(session, rep, "Initech", customer_since=date(2021, 11, 28))
    add_insight(
        session, initech, "win", "launch", 'Initech ships <script>alert("x")</script> "><img src=x onerror=alert(1)>',
        score=0.8, facts={"product": '<b>TPS</b> "Reports" 2.0'}, age_hours=3,
        url='https://initech.example/launch?a=1&b="2"',
    )  # fmt: skip
    add_insight(session, initech, "news", "update", "Old news already shown", score=0.9, age_hours=48)
    return rep
