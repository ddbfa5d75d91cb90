"""rep work days and pronoun (contacts.language and customers.tier come with migration 0003)

The morning brief is sent on the rep's work days only, drafts gender the writer only when the rep says how,
and a draft is written in the contact's own language when it differs from the company's.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("workdays", sa.String(length=32), nullable=False, server_default="mon,tue,wed,thu,fri")
        )
        batch_op.add_column(sa.Column("pronoun", sa.String(length=8), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.drop_column("pronoun")
        batch_op.drop_column("workdays")
