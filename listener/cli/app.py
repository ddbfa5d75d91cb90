"""The CLI's environment: settings, database and output streams, built once per invocation and injectable in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from listener.db.session import ensure_ready, make_engine, safe_url, session_factory, transaction
from listener.errors import DatabaseNotReady
from listener.settings import Settings


@dataclass
class App:
    """Lazily opens the database so that `--help` and `init` work without one."""

    settings: Settings
    console: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _engine: Engine | None = None
    _sessions: sessionmaker[Session] | None = None

    def raw_engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def engine(self) -> Engine:
        """The engine, after checking the schema is current (otherwise: run `listener init`)."""
        if self._sessions is None:
            url = make_url(self.settings.database_url)
            sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
            # A missing SQLite file means "never initialised": say so instead of creating an empty file.
            if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).expanduser().exists():
                raise DatabaseNotReady(safe_url(self.settings.database_url))
        engine = self.raw_engine()
        if self._sessions is None:
            ensure_ready(engine)
            self._sessions = session_factory(engine)
        return engine

    def sessions(self) -> sessionmaker[Session]:
        self.engine()
        assert self._sessions is not None
        return self._sessions

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything or nothing (bad input changes nothing)."""
        with transaction(self.sessions()) as session:
            yield session

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
