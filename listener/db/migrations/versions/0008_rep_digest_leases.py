"""reps.digest_lease_owner, reps.digest_lease_until: due digests are claimed in chunks, like due sources

A worker leases a chunk of due reps (`FOR UPDATE SKIP LOCKED … LIMIT` on PostgreSQL) before it builds their
digests; a dead worker's leases run out, a stopping one gives back those it has not started.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import listener.db.schema

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_lease_owner", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("digest_lease_until", listener.db.schema.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.drop_column("digest_lease_until")
        batch_op.drop_column("digest_lease_owner")
