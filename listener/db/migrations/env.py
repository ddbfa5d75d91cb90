"""Alembic environment: runs on the engine Listener hands it (no alembic.ini, no URL in a file)."""

from __future__ import annotations

from alembic import context

from listener.db.schema import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch mode for ALTER
        compare_type=True,
    )
    context.run_migrations()
