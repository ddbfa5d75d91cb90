"""Developer tool: write a new Alembic migration from the models' changes.

    python -m listener.db.revision "add sources.title"

It upgrades a scratch SQLite database to the newest migration, compares it with the models and writes the
difference as a new file in migrations/versions/. Read and edit the file before committing it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from listener.db.session import alembic_config, init_database, make_engine


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        init_database(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "change")
