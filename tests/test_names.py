"""Names in any language: one matching key (listener.names) on SQLite and on the real PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text

from listener.cli.app import App
from listener.db.schema import Customer, Post
from listener.db.session import alembic_config, head_revision, init_database, make_engine
from listener.names import name_key
from listener.settings import load_settings
from tests.conftest import Invoke, allow_loopback
from tests.feeds import rss
from tests.servers.http import Reply, serve

RSS = {"Content-Type": "application/rss+xml"}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("CAFÉ MÜLLER", "Café Müller"),
        ("Cafe Muller", "Café Müller"),  # accent-insensitive, by choice (listener.names)
        ("ÉLECTRICITÉ  ÓPTIMA", "électricité óptima"),
        ("Ωμέγα Ναυτιλιακή", "ΩΜΕΓΑ ΝΑΥΤΙΛΙΑΚΗ"),  # Greek capitals drop the tonos
        ("ΟΔΟΣ", "οδος"),  # final sigma
        ("ООО «Ромашка»", "ооо «ромашка»"),
        ("İSTANBUL TEKSTİL", "istanbul tekstil"),
        ("ＡＣＭＥ", "acme"),  # full-width
        ("Straße GmbH", "STRASSE GMBH"),
        ("東京電力", "東京電力"),
        ("Cafe\u0301", "Café"),  # decomposed and composed
    ],
)
def test_spellings_of_one_name_share_a_key(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ıstanbul", "istanbul"),  # the dotless i is its own letter
        ("ガス", "カス"),  # Japanese voicing marks change the word
        ("Acme", "Acme Corp"),
        ("北京", "南京"),
    ],
)
def test_different_names_keep_different_keys(one: str, other: str) -> None:
    assert name_key(one) != name_key(other)


@pytest.fixture
def db_app(any_db_url: str, tmp_path: Path) -> Iterator[App]:
    """An App on SQLite, then on the harness's PostgreSQL, with a rep, allowed to fetch from loopback."""
    settings = load_settings(None, environ={"LISTENER_DB": any_db_url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    application = App(settings=settings)
    allow_loopback(application)
    Invoke(application)("rep", "add", "ana@example.com", "--name", "Ana García")
    yield application
    application.close()


def customers(app: App) -> list[str]:
    with app.transaction() as session:
        return list(session.scalars(select(Customer.name).order_by(Customer.id)))


NAMES = [
    "Électricité Óptima",
    "Ωμέγα Ναυτιλιακή Α.Ε.",
    "ООО «Ромашка»",
    "株式会社東京ロボティクス",
    "İzmir Tekstil A.Ş.",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_command_that_names_a_customer_finds_it(db_app: App, name: str) -> None:
    invoke = Invoke(db_app)
    assert invoke("customer", "add", name, "--rep", "ana@example.com").exit_code == 0
    upper = name.upper()
    with serve() as (base, routes):
        routes["/feed"] = Reply(rss([]), headers=RSS)
        result = invoke("source", "add", upper, f"{base}/feed", "--kind", "rss")
        assert result.exit_code == 0, result.output
    for args in (
        ("customer", "show", upper, "--json"),
        ("customer", "show", name.lower(), "--json"),
        ("contact", "add", upper, "Lucía Pérez", "--role", "CEO"),
        ("contact", "list", name),
        ("log", upper, "--kind", "call"),
        ("snooze", name.lower(), "3"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    shown = json.loads(invoke("customer", "show", name, "--json").output)
    assert shown["name"] == name
    assert [c["name"] for c in shown["contacts"]] == ["Lucía Pérez"]
    assert len(shown["sources"]) == 1

    again = invoke("customer", "add", upper, "--rep", "ana@example.com")
    assert again.exit_code == 2
    assert again.output.startswith("error: ") and again.output.count("\n") == 1 and "already exists" in again.output
    contact_again = invoke("contact", "add", name, "LUCÍA PÉREZ")
    assert contact_again.exit_code == 2 and "already has a contact" in contact_again.output

    result = invoke("customer", "remove", upper, "--yes")
    assert result.exit_code == 0, result.output
    assert customers(db_app) == []


def test_case_and_accent_variants_are_one_customer(db_app: App) -> None:
    invoke = Invoke(db_app)
    assert invoke("customer", "add", "Café Müller — Ñandú 🚀", "--rep", "ana@example.com").exit_code == 0
    for variant in ("CAFÉ MÜLLER — ÑANDÚ 🚀", "Cafe Muller — Nandu 🚀", "café   müller — ñandú 🚀"):
        result = invoke("customer", "add", variant, "--rep", "ana@example.com")
        assert result.exit_code == 2 and "already exists" in result.output, result.output
    assert customers(db_app) == ["Café Müller — Ñandú 🚀"]


def test_a_spanish_csv_imported_twice_adds_nothing_twice(db_app: App, tmp_path: Path) -> None:
    invoke = Invoke(db_app)
    csv_file = tmp_path / "es_caps.csv"
    csv_file.write_text("customer,rep\nÓptica Ñandú S.A.,ana@example.com\nÁrea Logística,ana@example.com\n")
    first = invoke("import", str(csv_file))
    assert first.exit_code == 0, first.output
    assert "2 new customers" in first.output
    shouted = tmp_path / "es_shouted.csv"
    shouted.write_text("customer,rep\nÓPTICA ÑANDÚ S.A.,ana@example.com\nÁREA LOGÍSTICA,ana@example.com\n")
    for again in (csv_file, shouted):
        result = invoke("import", str(again))
        assert result.exit_code == 0, result.output
        assert "0 new customers" in result.output and "Traceback" not in result.output
    assert customers(db_app) == ["Óptica Ñandú S.A.", "Área Logística"]


def test_the_migration_keys_old_rows_and_keeps_clashing_ones(any_db_url: str) -> None:
    """A 0002 database may hold "ÓPTICA" and "Óptica" (SQLite's lower() folded only ASCII): both survive 0003."""
    engine = make_engine(any_db_url)
    command.downgrade(alembic_config(engine), "0002")
    stamp = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    value = stamp.replace(tzinfo=None) if engine.dialect.name == "sqlite" else stamp
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reps (id, email, name, time_zone, digest_hour, language, created_at)"
                " VALUES (1, 'ana@example.com', 'Ana', 'UTC', 7, 'en', :t)"
            ),
            {"t": value},
        )
        for ident, name in ((1, "Óptica Ñandú"), (2, "ÓPTICA ÑANDÚ"), (3, "Ωμέγα")):
            connection.execute(
                text(
                    "INSERT INTO customers (id, name, rep_id, domains, aliases, interests, language,"
                    " touch_cadence_days, created_at) VALUES (:id, :name, 1, '[]', '[]', '[]', 'es', 30, :t)"
                ),
                {"id": ident, "name": name, "t": value},
            )
        connection.execute(
            text(
                "INSERT INTO sources (id, customer_id, kind, locator, title, enabled, disabled_reason, etag,"
                " last_modified, cursor, declared_lang, polls, error_count, last_error, lease_owner, created_at)"
                " VALUES (1, 2, 'rss', 'https://optica.example/feed', '', true, '', '', '', '{}', '', 0, 0, '',"
                " '', :t)"
            ),
            {"t": value},
        )
        connection.execute(
            text(
                "INSERT INTO posts (source_id, customer_id, external_id, canonical_url, title, text, author,"
                " fetched_at, language, content_hash, story_key, links, metrics, digest_eligible)"
                " VALUES (1, 2, 'g1', '', 'Abrimos en Lyon', '', '', :t, '', 'h', 's', '[]', '{}', true)"
            ),
            {"t": value},
        )
    assert init_database(engine) == ("0002", head_revision())
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT id, name_key FROM customers")).all())
        tiers = set(connection.execute(text("SELECT tier FROM customers")).scalars())
        posts = connection.execute(select(func.count()).select_from(Post)).scalar()
    assert keys == {1: "optica nandu", 2: name_key("ÓPTICA ÑANDÚ (2)"), 3: "ωμεγα"}
    assert tiers == {"normal"}
    assert posts == 1  # no table copy: the cascade never ran
    engine.dispose()
