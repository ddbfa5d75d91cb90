"""Read what one rep's digest may draw on from the database, as plain snapshots (a handful of queries per rep)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.db.schema import Contact, Customer, Digest, Insight, Interaction, Post, Rep, Source
from listener.settings import DigestSettings

# Items reach the daily sections only while they are this fresh; older unshown ones are stale news.
FRESH_DAYS = 14
RELEVANT_KINDS = ("win", "news", "goal", "challenge")


@dataclass(frozen=True)
class ContactInfo:
    name: str
    role: str
    email: str
    birthday: str  # MM-DD or ""
    language: str = ""  # BCP 47, "" = the customer's


@dataclass(frozen=True)
class Touch:
    """The latest logged interaction: when, what kind, and the rep's note."""

    at: datetime
    kind: str
    note: str


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    name: str
    language: str
    interests: tuple[str, ...]
    since: date | None
    founded: date | None
    cadence_days: int
    created_at: datetime
    contacts: tuple[ContactInfo, ...] = ()
    last_touch: datetime | None = None  # latest logged interaction of any kind
    last_meeting: datetime | None = None
    tier: str = ""  # the account's weight: A/B/C, 1/2/3, strategic/key/standard...
    touch: Touch | None = None  # the latest interaction with its kind and note

    @property
    def first_name(self) -> str:
        """The first contact's first name, or "" when the customer has no contacts."""
        return self.contacts[0].name.split()[0] if self.contacts else ""


@dataclass(frozen=True)
class InsightInfo:
    id: int
    customer_id: int
    kind: str
    category: str
    score: float
    language: str
    evidence: tuple[str, ...]
    facts: dict[str, Any]
    title: str
    text: str
    url: str
    links: tuple[str, ...]
    published_at: datetime
    acted: bool
    shown: bool  # already in a sent digest
    story_key: str = ""  # the same story across one customer's sources (set at ingest)
    comments_url: str = ""  # where readers comment on the post, as its feed gave it ("" when it gave none)


@dataclass
class RepSnapshot:
    """Everything one rep's digest is built from."""

    rep_id: int
    email: str
    name: str
    language: str
    time_zone: str
    customers: dict[int, CustomerInfo] = field(default_factory=dict)
    insights: list[InsightInfo] = field(default_factory=list)  # within the business-date lookback
    failing: list[tuple[str, str, str, datetime | None, bool]] = field(default_factory=list)
    workdays: str = "mon,tue,wed,thu,fri"
    pronoun: str = ""


def load_snapshot(session: Session, rep: Rep, on: date, now: datetime, settings: DigestSettings) -> RepSnapshot:
    """Load one rep's customers, recent insights, touches and failing sources as of `now`."""
    snap = RepSnapshot(
        rep.id, rep.email, rep.name, rep.language, rep.time_zone, workdays=rep.workdays or "", pronoun=rep.pronoun or ""
    )
    customers = session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.language,
            Customer.interests,
            Customer.customer_since,
            Customer.founded_on,
            Customer.touch_cadence_days,
            Customer.created_at,
            Customer.tier,
        ).where(
            Customer.rep_id == rep.id,
            (Customer.muted_until.is_(None)) | (Customer.muted_until < on),
        )
    ).all()
    if not customers:
        return snap
    ids = [row.id for row in customers]
    contacts = _contacts(session, ids)
    touches = _touches(session, ids, now)
    latest = _latest_touch(session, ids, now)
    for row in customers:
        last_touch, last_meeting = touches.get(row.id, (None, None))
        snap.customers[row.id] = CustomerInfo(
            id=row.id,
            name=row.name,
            language=row.language or "en",
            interests=tuple(row.interests or ()),
            since=row.customer_since,
            founded=row.founded_on,
            cadence_days=row.touch_cadence_days,
            created_at=row.created_at,
            contacts=tuple(contacts.get(row.id, ())),
            last_touch=last_touch,
            last_meeting=last_meeting,
            tier=str(row.tier or ""),
            touch=latest.get(row.id),
        )
    snap.insights = _insights(session, rep.id, ids, on, now, settings)
    snap.failing = _failing(session, ids)
    return snap


def _contacts(session: Session, customer_ids: list[int]) -> dict[int, list[ContactInfo]]:
    rows = session.execute(
        select(Contact.customer_id, Contact.name, Contact.role, Contact.email, Contact.birthday, Contact.language)
        .where(Contact.customer_id.in_(customer_ids))
        .order_by(Contact.customer_id, Contact.id)
    ).all()
    out: dict[int, list[ContactInfo]] = defaultdict(list)
    for row in rows:
        out[row.customer_id].append(ContactInfo(row.name, row.role, row.email, row.birthday, row.language or ""))
    return out


def _touches(session: Session, customer_ids: list[int], now: datetime) -> dict[int, tuple[Any, Any]]:
    """Latest interaction and latest meeting per customer, up to `now` (so a preview of a past date is honest)."""
    rows = session.execute(
        select(Interaction.customer_id, Interaction.kind, func.max(Interaction.happened_at))
        .where(Interaction.customer_id.in_(customer_ids), Interaction.happened_at <= now)
        .group_by(Interaction.customer_id, Interaction.kind)
    ).all()
    out: dict[int, tuple[Any, Any]] = {}
    for customer_id, kind, latest in rows:
        latest = _aware(latest)
        touch, meeting = out.get(customer_id, (None, None))
        touch = latest if touch is None or latest > touch else touch
        if kind == "meeting":
            meeting = latest if meeting is None or latest > meeting else meeting
        out[customer_id] = (touch, meeting)
    return out


def _latest_touch(session: Session, customer_ids: list[int], now: datetime) -> dict[int, Touch]:
    """The latest interaction per customer with its kind and note (the card says what was last said)."""
    latest = (
        select(Interaction.customer_id, func.max(Interaction.happened_at).label("at"))
        .where(Interaction.customer_id.in_(customer_ids), Interaction.happened_at <= now)
        .group_by(Interaction.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(Interaction.customer_id, Interaction.happened_at, Interaction.kind, Interaction.note)
        .join(latest, (Interaction.customer_id == latest.c.customer_id) & (Interaction.happened_at == latest.c.at))
        .order_by(Interaction.id)
    ).all()
    return {row.customer_id: Touch(_aware(row.happened_at), row.kind, row.note or "") for row in rows}


def _shown_ids(session: Session, rep_id: int, since: date) -> set[int]:
    rows = session.scalars(
        select(Digest.insight_ids).where(Digest.rep_id == rep_id, Digest.status == "sent", Digest.digest_date >= since)
    ).all()
    return {int(i) for ids in rows for i in (ids or ())}


def _insights(
    session: Session, rep_id: int, customer_ids: list[int], on: date, now: datetime, settings: DigestSettings
) -> list[InsightInfo]:
    lookback_start = datetime.combine(on - timedelta(days=settings.date_lookback_days), time(), tzinfo=UTC)
    when = func.coalesce(Post.published_at, Post.fetched_at)
    rows = session.execute(
        select(
            Insight.id,
            Post.customer_id,
            Insight.kind,
            Insight.category,
            Insight.score,
            Insight.language,
            Insight.evidence,
            Insight.facts,
            Insight.acted_at,
            Post.title,
            # A headline, the job-cuts check and the fact check need only the start of the text; whole posts are heavy.
            func.substr(Post.text, 1, 1500).label("text"),
            Post.canonical_url,
            Post.links,
            Post.comments_url,
            Post.language.label("post_language"),
            Post.published_at,
            Post.fetched_at,
            Post.story_key,
        )
        .join(Post, Insight.post_id == Post.id)
        .where(
            Post.customer_id.in_(customer_ids),
            Post.digest_eligible.is_(True),
            Post.duplicate_of_id.is_(None),
            # `kind || ''`: without statistics SQLite would pick the index on kind and scan every relevant
            # insight of every rep (100x slower); the customer's posts are the selective side of this join.
            Insight.kind.concat("").in_(RELEVANT_KINDS),
            Insight.classified_at <= now,
            when >= lookback_start,
        )
    ).all()
    # A digest sent before the lookback cannot hold anything still inside it, so older digests are not read.
    shown = _shown_ids(session, rep_id, on - timedelta(days=settings.date_lookback_days + FRESH_DAYS))
    out = []
    for row in rows:
        published = _aware(row.published_at or row.fetched_at)
        if published > now:
            continue
        out.append(
            InsightInfo(
                id=row.id,
                customer_id=row.customer_id,
                kind=row.kind,
                category=row.category,
                score=float(row.score),
                language=(row.language or row.post_language or "").lower()[:2],
                evidence=tuple(str(e) for e in (row.evidence or ())),
                facts=dict(row.facts or {}),
                title=row.title or "",
                text=row.text or "",
                url=row.canonical_url or "",
                links=tuple(str(link) for link in (row.links or ())),
                published_at=published,
                acted=row.acted_at is not None,
                shown=row.id in shown,
                story_key=row.story_key or "",
                comments_url=row.comments_url or "",
            )
        )
    return out


def _failing(session: Session, customer_ids: list[int]) -> list[tuple[str, str, str, datetime | None, bool]]:
    rows = session.execute(
        select(
            Customer.name,
            Source.locator,
            Source.last_error,
            Source.disabled_reason,
            Source.failing_since,
            Source.enabled,
        )
        .join(Customer, Source.customer_id == Customer.id)
        .where(
            Source.customer_id.in_(customer_ids),
            (Source.enabled.is_(False)) | (Source.failing_since.is_not(None)),
        )
        .order_by(Customer.name, Source.locator)
    ).all()
    return [
        (row.name, row.locator, row.last_error or row.disabled_reason or "", row.failing_since, bool(row.enabled))
        for row in rows
    ]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
