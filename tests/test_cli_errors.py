"""Input mistakes around the database and output folders: one line, exit status 2, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Contact, Customer, Rep
from listener.settings import load_settings
from tests.conftest import Invoke


def app_on(url: str, tmp_path: Path) -> App:
    return App(settings=load_settings(None, environ={"LISTENER_DB": url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}))


def one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    for fragment in fragments:
        assert fragment in result.output


@pytest.fixture
def on_any_db(any_db_url: str, tmp_path: Path) -> Iterator[App]:
    application = app_on(any_db_url, tmp_path)
    Invoke(application)("rep", "add", "ana@example.com", "--name", "Ana")
    Invoke(application)("customer", "add", "Acme", "--rep", "ana@example.com")
    yield application
    application.close()


def counts(app: App) -> tuple[int, ...]:
    with app.transaction() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(m)) or 0) for m in (Rep, Customer, Contact))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("customer", "add", "N" * 201, "--rep", "ana@example.com"), "use at most 200"),
        (("customer", "add", "Beta", "--rep", "ana@example.com", "--alias", "A" * 201), "use at most 200"),
        (("contact", "add", "Acme", "Ç" * 201), "use at most 200"),
        (("contact", "add", "Acme", "Bo", "--role", "R" * 201), "use at most 200"),
        (("rep", "add", "bo@example.com", "--name", "B" * 201), "use at most 200"),
        (("rep", "add", "bo@example.com", "--name", "Bo", "--lang", "xx"), "no phrasebook for language 'xx'"),
        (("rep", "add", "bo@example.com", "--name", "Bo", "--lang", "ja"), "use one of de, en, es, es-419, fr, it, pt"),
        (("customer", "add", "Beta", "--rep", "ana@example.com", "--lang", "ar"), "no phrasebook"),
    ],
)
def test_too_long_names_and_unknown_languages_are_one_line(
    on_any_db: App, args: tuple[str, ...], fragment: str
) -> None:
    """PostgreSQL would refuse a 201-character name with a traceback; SQLite would store it. Both say one line."""
    before = counts(on_any_db)
    one_line_error(Invoke(on_any_db)(*args), fragment)
    assert counts(on_any_db) == before


@pytest.mark.postgres
def test_postgres_urls_are_accepted_as_psycopg(pg_url: str, tmp_path: Path) -> None:
    for scheme in ("postgres://", "postgresql://"):
        application = app_on(pg_url.replace("postgresql+psycopg://", scheme), tmp_path)
        result = Invoke(application)("rep", "list", "--json")
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "[]"
        application.close()


def run_listener(*args: str, env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    """The real `listener` entry point in a new process (optionally with a Python prelude run first)."""
    code = f"{prelude}\nimport sys\nfrom listener.cli import main\nsys.argv = ['listener', *sys.argv[1:]]\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_postgresql_without_its_driver_is_one_line(tmp_path: Path) -> None:
    # The process cannot import psycopg, as on a machine without the [postgres] extra.
    done = run_listener(
        "init",
        env={"LISTENER_DB": "postgresql+psycopg://u@127.0.0.1:1/x", "XDG_CONFIG_HOME": str(tmp_path)},
        prelude="import sys; sys.modules['psycopg'] = None",
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "pip install 'listener[postgres]'" in done.stderr


@pytest.mark.parametrize("command", [("init",), ("customer", "list")])
def test_an_unreachable_database_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    done = run_listener(
        *command,
        env={"LISTENER_DB": "postgresql://ana:s3cret@127.0.0.1:1/listener", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: cannot reach the database at postgresql+psycopg://ana:***@127.0.0.1:1/")
    assert done.stderr.count("\n") == 1 and "s3cret" not in done.stderr + done.stdout


def test_output_folders_that_cannot_be_written_are_one_line(app: App, tmp_path: Path) -> None:
    invoke = Invoke(app)
    invoke("rep", "add", "ana@example.com", "--name", "Ana")
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    one_line_error(invoke("export", "opml", "-o", str(tmp_path / "missing" / "x.opml")), "does not exist")
    one_line_error(invoke("export", "opml", "-o", str(a_file / "x.opml")), "does not exist")
    for out in (str(a_file / "out"), "/proc/forbidden"):
        one_line_error(invoke("digest", "preview", "--rep", "ana@example.com", "--out", out), "cannot write")
    assert not (tmp_path / "missing").exists()
