"""BulkInsert sends what SQLAlchemy's own INSERT would: same rows back, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select

from listener.db.bulk import BulkInsert
from listener.db.schema import Customer, Insight, Post, Rep, Source
from listener.db.session import make_engine

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
MADRID = timezone(timedelta(hours=2))
COLUMNS = ("post_id", "kind", "category", "score", "language", "evidence", "facts", "classified_at")


def _posts(connection: Any, count: int) -> list[int]:
    rep = connection.scalar(insert(Rep).returning(Rep.id), {"email": "a@example.com", "name": "A", "created_at": NOW})
    customer = connection.scalar(
        insert(Customer).returning(Customer.id), {"name": "Acme", "rep_id": rep, "created_at": NOW}
    )
    source = connection.scalar(
        insert(Source).returning(Source.id),
        {"customer_id": customer, "kind": "rss", "locator": "https://acme.example/feed", "created_at": NOW},
    )
    base = {"source_id": source, "customer_id": customer, "fetched_at": NOW, "content_hash": "h", "story_key": "k"}
    rows = [{**base, "external_id": str(i)} for i in range(count)]
    return list(connection.scalars(insert(Post).returning(Post.id, sort_by_parameter_order=True), rows))


def test_rows_read_back_as_sqlalchemys_own_insert_writes_them(any_db_url: str) -> None:
    table = cast(Table, Insight.__table__)
    shared_evidence: list[str] = []  # one object in many rows: converted once, stored in each
    values = [
        ("news", "funding", 0.9, "es", ["ronda de 12 millones", "«Serie A»"], {"amount": 12e6, "round": "A"}, NOW),
        ("noise", "", 0.1, "", shared_evidence, {}, NOW.astimezone(MADRID)),  # stored as UTC
        ("news", "award", 0.5, "en", shared_evidence, {"award": "Best 🏆"}, NOW),
    ]
    engine = make_engine(any_db_url)
    try:
        with engine.begin() as connection:
            ids = _posts(connection, 6)
            BulkInsert(table, COLUMNS).execute(connection, [(ids[i], *row) for i, row in enumerate(values)])
            connection.execute(
                insert(table), [dict(zip(COLUMNS, (ids[3 + i], *row), strict=True)) for i, row in enumerate(values)]
            )
            stored = connection.execute(select(*(table.c[c] for c in COLUMNS)).order_by(table.c.post_id)).all()
    finally:
        engine.dispose()
    bulk, reference = [tuple(r)[1:] for r in stored[:3]], [tuple(r)[1:] for r in stored[3:]]
    assert bulk == reference
    assert bulk[0][4] == ["ronda de 12 millones", "«Serie A»"] and bulk[2][5] == {"award": "Best 🏆"}
    assert {row[6] for row in bulk} == {NOW} and all(row[6].utcoffset() == timedelta(0) for row in bulk)


def test_nothing_is_sent_for_no_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            BulkInsert(cast(Table, Insight.__table__), COLUMNS).execute(connection, [])
            assert connection.scalar(select(Insight.id)) is None
    finally:
        engine.dispose()


def test_columns_whose_default_sqlalchemy_would_fire_are_refused(db_url: str) -> None:
    """Leaving out `evidence` (default=list) would store NULL here where SQLAlchemy stores []: refused instead."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection, pytest.raises(ValueError, match="cannot bulk-insert into insights"):
            BulkInsert(cast(Table, Insight.__table__), [c for c in COLUMNS if c != "evidence"]).execute(connection, [])
    finally:
        engine.dispose()
