"""Engine and session helpers; `init_database` runs the Alembic migrations, `open_database` refuses a stale schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from listener.errors import ConfigError, DatabaseNotReady, DatabaseUnreachable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


# Heroku-style `postgres://` and bare `postgresql://` mean the driver Listener installs: psycopg 3.
_POSTGRES_SCHEMES = {"postgres", "postgresql"}


def normalize_url(url: str) -> URL:
    """The URL parsed, with `postgres://` and `postgresql://` spelled `postgresql+psycopg://`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"invalid database URL {safe_url(url)!r}", hint="use e.g. sqlite:///path/listener.db"
        ) from None
    if parsed.drivername in _POSTGRES_SCHEMES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, foreign keys and a busy timeout so cron runs can overlap."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        postgres = parsed.get_backend_name() == "postgresql"
        raise ConfigError(
            f"the database driver for {parsed.drivername}:// is not installed ({exc})",
            hint="pip install 'listener[postgres]' (psycopg 3) and write postgresql+psycopg://..."
            if postgres
            else "use sqlite:///path/listener.db or postgresql+psycopg://user@host/db",
        ) from None


def _unreachable(engine: Engine, exc: OperationalError | InterfaceError) -> DatabaseUnreachable:
    """One line naming the database (password hidden) and the driver's first line of explanation."""
    reason = (str(exc.orig).strip().splitlines() or ["no answer"])[0]
    return DatabaseUnreachable(
        f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: {reason}",
        hint="check LISTENER_DB (database.url) and that the server is running",
    )


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(engine, exc) from None


def init_database(engine: Engine) -> tuple[str | None, str | None]:
    """Create or upgrade the schema to the newest migration; returns (revision before, revision after)."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


def ensure_ready(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the schema is at the newest migration."""
    if current_revision(engine) != head_revision():
        raise DatabaseNotReady(safe_url(str(engine.url.render_as_string(hide_password=False))))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
