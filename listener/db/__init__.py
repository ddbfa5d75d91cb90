"""The database: SQLAlchemy 2 typed models, engine and session helpers, Alembic migrations."""
