"""`listener export json` and `import FILE.json`: export -> fresh database -> import -> export is byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digests.feedback import log_interaction
from listener.cli.app import App
from listener.db.schema import Contact, Customer, Interaction, Rep, Source
from listener.db.session import init_database, make_engine
from listener.directory import get_customer
from listener.settings import load_settings
from listener.sourcing import Resolved, insert_source
from tests.conftest import Invoke

WHEN = datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=UTC)


def build(app: App, invoke: Invoke) -> None:
    """Something of everything: reps, customers with every detail, contacts, sources with state, history."""
    for args in (
        ("rep", "add", "ana@example.com", "--name", "Ana García", "--tz", "Europe/Madrid", "--hour", "8",
         "--lang", "es"),
        ("rep", "add", "bruno@example.com", "--name", "Bruno Díaz", "--tz", "America/Chicago"),
        ("customer", "add", "Électricité Óptima", "--rep", "ana@example.com", "--domain", "optima.example",
         "--alias", "Óptima", "--since", "2021-03-15", "--founded", "1990-06-01", "--interests", "café,ciclismo",
         "--lang", "es", "--cadence", "21", "--tier", "high"),
        ("customer", "add", "株式会社東京ロボティクス", "--rep", "bruno@example.com"),
        ("customer", "edit", "株式会社東京ロボティクス", "--tags", "Customers, Asia"),
        ("contact", "add", "Électricité Óptima", "Lucía Pérez", "--role", "CEO", "--email", "lucia@optima.example",
         "--birthday", "03-14"),
        ("contact", "add", "Électricité Óptima", "Jon Park", "--role", "CTO"),
        ("contact", "edit", "Électricité Óptima", "Jon Park", "--lang", "en"),
        ("snooze", "株式会社東京ロボティクス", "5"),
    ):  # fmt: skip
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    with app.transaction() as session:
        optima = get_customer(session, "Électricité Óptima")
        feed = insert_source(session, optima, Resolved("rss", "https://optima.example/feed/", "Noticias & más"))
        feed.etag, feed.last_modified = '"abc"', "Mon, 30 Nov 2026 09:00:00 GMT"
        feed.cursor = {"seen": ["https://optima.example/a", "https://optima.example/b"], "since_id": "42"}
        feed.polls, feed.error_count, feed.last_error = 12, 2, "HTTP 503"
        feed.last_polled_at = feed.last_success_at = feed.failing_since = feed.next_poll_at = WHEN
        page = insert_source(session, optima, Resolved("page", "https://optima.example/prensa"))
        page.enabled, page.disabled_reason = False, "gone until March"
        robots = get_customer(session, "株式会社東京ロボティクス")
        insert_source(session, robots, Resolved("twitter", "@tokyorobotics"))
        log_interaction(session, "Électricité Óptima", "call", "Habló de la ampliación", now=WHEN)
        log_interaction(session, "Électricité Óptima", "gift", "", now=WHEN.replace(day=1))


def fresh(url: str, tmp_path: Path) -> App:
    return App(settings=load_settings(None, environ={"LISTENER_DB": url, "XDG_CONFIG_HOME": str(tmp_path / "c2")}))


def counts(app: App) -> tuple[int, ...]:
    with app.transaction() as session:
        tables = (Rep, Customer, Contact, Source, Interaction)
        return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0) for t in tables)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second, fresh database: another SQLite file, or a database on the harness's PostgreSQL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    url = f"sqlite:///{tmp_path / 'target.db'}"
    engine = make_engine(url)
    init_database(engine)
    engine.dispose()
    return url


def test_export_fresh_database_import_export_is_identical(
    app: App, invoke: Invoke, target_url: str, tmp_path: Path
) -> None:
    """From SQLite into a fresh SQLite file, and into the harness's PostgreSQL."""
    build(app, invoke)
    first = tmp_path / "first.json"
    assert invoke("export", "json", "-o", str(first)).exit_code == 0
    document = json.loads(first.read_text(encoding="utf-8"))
    optima = document["customers"][0]
    assert optima["name"] == "Électricité Óptima" and optima["tier"] == "high"
    assert [c["name"] for c in optima["contacts"]] == ["Jon Park", "Lucía Pérez"]
    assert optima["sources"][1]["cursor"]["since_id"] == "42" and optima["sources"][1]["etag"] == '"abc"'
    assert [i["kind"] for i in optima["interactions"]] == ["gift", "call"]
    assert document["customers"][1]["muted_until"] is not None

    target = fresh(target_url, tmp_path)
    try:
        result = Invoke(target)("import", str(first))
        assert result.exit_code == 0, result.output
        assert "2 reps, 2 customers, 2 contacts, 3 sources, 2 interactions" in result.output
        second = tmp_path / "second.json"
        assert Invoke(target)("export", "json", "-o", str(second)).exit_code == 0
        assert second.read_bytes() == first.read_bytes()

        before = counts(target)
        again = Invoke(target)("import", str(first))
        assert again.exit_code == 0 and "0 reps, 0 customers, 0 contacts, 0 sources, 0 interactions" in again.output
        assert "(9 already there)" in again.output
        assert counts(target) == before
    finally:
        target.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "something else"}', "is not a Listener export"),
        ('{"format": "listener-export", "version": 9}', "a version 9 export"),
        (
            '{"format": "listener-export", "version": 1, "reps": [],'
            ' "customers": [{"name": "A", "rep": "x@example.com"}]}',
            "customers[0]: no rep with email",
        ),
        (
            '{"format": "listener-export", "version": 1, "reps": [{"email": "a@example.com", "name": "A"}],'
            ' "customers": [{"name": "A", "rep": "a@example.com", "sources": [{"kind": "gopher", "locator": "x"}]}]}',
            "unknown source kind 'gopher'",
        ),
        (
            '{"format": "listener-export", "version": 1, "reps": [{"email": "a@example.com", "name": "A",'
            ' "digest_hour": "7"}], "customers": []}',
            "reps[0].digest_hour should be int, not str",
        ),
    ],
)
def test_a_bad_export_file_is_one_line_and_changes_nothing(
    app: App, invoke: Invoke, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "backup.json"
    path.write_text(text)
    result = invoke("import", str(path))
    assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output, result.output
    assert counts(app) == (0, 0, 0, 0, 0)


def test_dry_run_of_an_export_changes_nothing(app: App, invoke: Invoke, tmp_path: Path) -> None:
    build(app, invoke)
    path = tmp_path / "b.json"
    invoke("export", "json", "-o", str(path))
    target = fresh(f"sqlite:///{tmp_path / 'other.db'}", tmp_path)
    init_database(target.raw_engine())
    try:
        result = Invoke(target)("import", str(path), "--dry-run")
        assert result.exit_code == 0 and "would import b.json: 2 reps" in result.output
        assert counts(target) == (0, 0, 0, 0, 0)
    finally:
        target.close()
