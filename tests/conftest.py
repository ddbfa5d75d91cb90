"""Shared fixtures: a real SQLite file per test, an injectable App, the CLI called in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from listener.cli import cli
from listener.cli.app import App
from listener.db.session import init_database, make_engine
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


@pytest.fixture
def invoke(app: App) -> Invoke:
    return Invoke(app)
