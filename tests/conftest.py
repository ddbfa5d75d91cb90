"""Shared fixtures: a real SQLite file per test, an injectable App, the CLI called in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from listener.cli import cli
from listener.cli.app import App
from listener.db.session import init_database, make_engine
from listener.directory import add_customer, add_rep
from listener.settings import load_settings


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A migrated SQLite database file, fresh for each test."""
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    engine = make_engine(url)
    init_database(engine)
    engine.dispose()
    return url


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[App]:
    """An App on the fresh database, with settings from defaults only (no user config, no environment)."""
    settings = load_settings(None, environ={"LISTENER_DB": db_url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    application = App(settings=settings)
    yield application
    application.close()


class Invoke:
    """Calls the CLI in-process on the test's App; `invoke('rep', 'add', ...)`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli, list(args), obj=self.app, input=input, catch_exceptions=False)


def allow_loopback(app: App) -> None:
    """Let the App fetch from the tests' local servers on 127.0.0.1, with a short time limit."""
    app.settings = replace(
        app.settings, fetch=replace(app.settings.fetch, allow_private_networks=True, total_timeout=5)
    )


@pytest.fixture
def local(app: App) -> App:
    """The App allowed to fetch from loopback (the tests' local servers), with a rep and two customers."""
    allow_loopback(app)
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
        add_customer(session, "Globex", rep_email="ana@example.com")
    return app


@pytest.fixture
def invoke(app: App) -> Invoke:
    return Invoke(app)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real PostgreSQL server for this test session (pgserver ships the binaries; it works as root too)."""
    pgserver = pytest.importorskip("pgserver", reason="pgserver is not installed: pip install -e '.[dev]'")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(pg_server: object) -> str:
    """A fresh, migrated PostgreSQL database on the session's server, as a SQLAlchemy URL."""
    from urllib.parse import parse_qs, urlsplit
    from uuid import uuid4

    name = f"t_{uuid4().hex[:12]}"
    pg_server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]
    socket_dir = parse_qs(urlsplit(pg_server.get_uri()).query)["host"][0]  # type: ignore[attr-defined]
    url = f"postgresql+psycopg://postgres:@/{name}?host={socket_dir}"
    engine = make_engine(url)
    init_database(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """The test runs once on SQLite and once on PostgreSQL."""
    fixture = "db_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))
