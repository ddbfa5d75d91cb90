"""SQLAlchemy 2 typed models for the tables of design.md. Alembic migrations in `migrations/` must match."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from listener.names import name_key

NAME_LENGTH = 200  # customers', contacts' and reps' names; checked before writing (PostgreSQL enforces it)
CUSTOMER_TIERS = ("high", "normal", "low")  # the digest ranks high-tier customers first

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON, list[int]: JSON}


class Rep(Base):
    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_hour: Mapped[int] = mapped_column(Integer, default=7)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The days a digest is sent, e.g. "mon,tue,wed,thu,fri"; the first work day after a break covers the break.
    workdays: Mapped[str] = mapped_column(String(32), default="mon,tue,wed,thu,fri")
    pronoun: Mapped[str] = mapped_column(String(8), default="")  # she | he | they | "" (drafts never gender the writer)
    created_at: Mapped[datetime]
    # The worker building this rep's due digest (digests/claims.py): leased in chunks, renewed while it works.
    digest_lease_owner: Mapped[str] = mapped_column(String(64), default="")
    digest_lease_until: Mapped[datetime | None]

    customers: Mapped[list[Customer]] = relationship(back_populates="rep")


def _name_key_of_row(context: Any) -> str:
    """The key of the row's name, for inserts that bypass the ORM's validators (bulk and Core inserts)."""
    return name_key(context.get_current_parameters()["name"])


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    # listener.names.name_key(name), kept in step by _key_name: what every lookup and the duplicate check use.
    name_key: Mapped[str] = mapped_column(Text, index=True, unique=True, default=_name_key_of_row)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    domains: Mapped[list[str]] = mapped_column(default=list)
    aliases: Mapped[list[str]] = mapped_column(default=list)
    customer_since: Mapped[date | None] = mapped_column(Date)
    founded_on: Mapped[date | None] = mapped_column(Date)  # company anniversary
    interests: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    touch_cadence_days: Mapped[int] = mapped_column(Integer, default=30)
    tier: Mapped[str] = mapped_column(String(8), default="normal")  # high | normal | low (CUSTOMER_TIERS)
    tags: Mapped[list[str]] = mapped_column(default=list)  # e.g. the feed reader's folder it was imported from
    muted_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]

    rep: Mapped[Rep] = relationship(back_populates="customers")
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    sources: Mapped[list[Source]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    interactions: Mapped[list[Interaction]] = relationship(back_populates="customer", cascade="all, delete-orphan")

    @validates("name")
    def _key_name(self, _attribute: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("customer_id", "name"),
        Index("ix_contacts_customer_id_name_key", "customer_id", "name_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_key: Mapped[str] = mapped_column(Text, default=_name_key_of_row)  # listener.names.name_key(name), as above
    role: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    birthday: Mapped[str] = mapped_column(String(5), default="")  # "MM-DD": the year is nobody's business
    language: Mapped[str] = mapped_column(String(16), default="")  # "" = the customer's language

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    @validates("name")
    def _key_name(self, _attribute: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class Source(Base):
    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "locator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # rss | page | twitter | reddit
    locator: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    # State is data: plain columns the poller reads and writes.
    etag: Mapped[str] = mapped_column(Text, default="")
    last_modified: Mapped[str] = mapped_column(Text, default="")
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)  # connector-owned: since_id, user_id, seen links
    declared_lang: Mapped[str] = mapped_column(String(16), default="")
    polls: Mapped[int] = mapped_column(Integer, default=0)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    failing_since: Mapped[datetime | None]
    # Lease: which run holds the source, until when (two overlapping runs never poll it twice).
    lease_owner: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="sources")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_posts_customer_story", "customer_id", "story_key"),
        Index("ix_posts_customer_url", "customer_id", "canonical_url"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (source_id, external_id) index serves every lookup by source_id.
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(16), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    story_key: Mapped[str] = mapped_column(String(64))  # the same story across a customer's sources
    links: Mapped[list[str]] = mapped_column(default=list)  # other links to the same story
    comments_url: Mapped[str] = mapped_column(Text, default="")  # where readers comment (the feed's own link)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    digest_eligible: Mapped[bool] = mapped_column(Boolean, default=True)  # False: backlog of a first poll

    insight: Mapped[Insight | None] = relationship(back_populates="post", cascade="all, delete-orphan")


class Insight(Base):
    __tablename__ = "insights"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(16), default="")
    evidence: Mapped[list[str]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    classified_at: Mapped[datetime]
    acted_at: Mapped[datetime | None]  # the rep acted on it (listener log): stays out of later digests

    post: Mapped[Post] = relationship(back_populates="insight")


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # congrats | comment | call | meeting | gift | email
    happened_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    insight_id: Mapped[int | None] = mapped_column(ForeignKey("insights.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship(back_populates="interactions")


class Digest(Base):
    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("rep_id", "digest_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    digest_date: Mapped[date] = mapped_column(Date)  # the rep's local date
    status: Mapped[str] = mapped_column(String(16))  # sending | sent | failed | empty
    message_id: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    insight_ids: Mapped[list[int]] = mapped_column(default=list)  # what it showed, so it is not repeated
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Feedback(Base):
    """What a rep said about one digest item from the email (done, snooze, not relevant, a kind correction).

    One row per (rep, item, action): a replayed click finds its row and changes nothing.
    """

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("rep_id", "item_key", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(200))  # "i:12,14" (its insights) or "c:5:quiet" (no post)
    action: Mapped[str] = mapped_column(String(16))  # done | snooze | not_relevant | bad_news | good_news
    insight_id: Mapped[int | None] = mapped_column(ForeignKey("insights.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="")  # the filter's label when the rep clicked
    category: Mapped[str] = mapped_column(String(32), default="")
    corrected_kind: Mapped[str] = mapped_column(String(16), default="")  # the rep's label ("none": not relevant)
    corrected_category: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]


class DigestPause(Base):
    """A rep who paused their digests with the email's one-click unsubscribe (RFC 8058); `rep resume` deletes it.

    A table of its own rather than a column on reps: a pause is rare, and reps' columns stay as they were.
    """

    __tablename__ = "digest_pauses"

    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), primary_key=True)
    paused_at: Mapped[datetime]
