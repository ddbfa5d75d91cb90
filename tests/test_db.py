"""Database round trips on SQLite and PostgreSQL, and the migrations matching the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from listener import directory
from listener.db.schema import Base, Insight, Post, Source
from listener.db.session import (
    alembic_config,
    head_revision,
    init_database,
    make_engine,
    session_factory,
    transaction,
)


def test_migrations_match_models(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: python -m listener.db.revision 'what changed'"


def test_init_is_idempotent(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    assert init_database(engine) == (head_revision(), head_revision())
    engine.dispose()


def test_a_database_of_the_first_revision_upgrades_and_keeps_its_posts(any_db_url: str) -> None:
    """0002 drops ix_posts_source_id (the unique (source_id, external_id) index covers it) and touches no row."""
    engine = make_engine(any_db_url)
    command.downgrade(alembic_config(engine), "0001")
    assert "ix_posts_source_id" in {ix["name"] for ix in inspect(engine).get_indexes("posts")}
    # Rows go in with plain SQL of the 0001 schema: today's ORM models have columns a 0001 database lacks.
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    rows = [
        ("reps", {"id": 1, "email": "ana@example.com", "name": "Ana", "time_zone": "UTC", "digest_hour": 7,
                  "language": "en", "created_at": when}),
        ("customers", {"id": 1, "name": "Acme", "rep_id": 1, "domains": "[]", "aliases": "[]", "interests": "[]",
                       "language": "en", "touch_cadence_days": 30, "created_at": when}),
        ("sources", {"id": 1, "customer_id": 1, "kind": "rss", "locator": "https://acme.example/feed", "title": "",
                     "enabled": True, "disabled_reason": "", "etag": "", "last_modified": "", "cursor": "{}",
                     "declared_lang": "", "polls": 0, "error_count": 0, "last_error": "", "lease_owner": "",
                     "created_at": when}),
        ("posts", {"id": 1, "source_id": 1, "customer_id": 1, "external_id": "guid-1", "canonical_url": "",
                   "title": "Acme opens in Lyon", "text": "", "author": "", "fetched_at": when, "language": "",
                   "content_hash": "h", "story_key": "s", "links": "[]", "metrics": "{}",
                   "digest_eligible": True}),
    ]  # fmt: skip
    with engine.begin() as connection:
        for table, row in rows:
            columns = ", ".join(row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row)
    sessions = session_factory(engine)
    assert init_database(engine) == ("0001", head_revision())
    assert "ix_posts_source_id" not in {ix["name"] for ix in inspect(engine).get_indexes("posts")}
    with transaction(sessions) as session:
        assert session.scalars(select(Post.title)).all() == ["Acme opens in Lyon"]
    engine.dispose()


def test_round_trip_keeps_utc_and_json(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    sessions = session_factory(engine)
    madrid_morning = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    with transaction(sessions) as session:
        directory.add_rep(session, "ana@example.com", "Ana", time_zone="Europe/Madrid")
        customer = directory.add_customer(
            session, "Acme", rep_email="ana@example.com", since="2020-01-31", interests=["coffee"]
        )
        source = Source(
            customer=customer, kind="rss", locator="https://acme.example/feed", cursor={"since_id": "9"},
            created_at=madrid_morning,
        )  # fmt: skip
        session.add(source)
        session.flush()
        post = Post(
            source_id=source.id, customer_id=customer.id, external_id="guid-1", title="Ñandú raises €5M",
            published_at=madrid_morning, fetched_at=madrid_morning, content_hash="h", story_key="s",
            links=["https://acme.example/a"],
        )  # fmt: skip
        session.add(post)
        session.flush()
        session.add(
            Insight(
                post_id=post.id, kind="win", category="funding", score=0.9, evidence=["raises"],
                facts={"amount": "€5M", "amount_value": 5e6}, classified_at=madrid_morning,
            )
        )  # fmt: skip
    with transaction(sessions) as session:
        stored = session.scalars(select(Post)).one()
        assert stored.published_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
        assert stored.title == "Ñandú raises €5M"
        assert stored.insight is not None and stored.insight.facts == {"amount": "€5M", "amount_value": 5e6}
        source = session.scalars(select(Source)).one()
        assert source.cursor == {"since_id": "9"}
        assert source.customer.customer_since == date(2020, 1, 31)
        assert source.customer.interests == ["coffee"]
    engine.dispose()
