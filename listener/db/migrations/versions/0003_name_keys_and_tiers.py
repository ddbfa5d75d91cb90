"""name keys for customers and contacts (any language, any database); customers.tier and tags; contacts.language

Names are matched by listener.names.name_key, stored in its own column with a unique index, so SQLite and
PostgreSQL agree on "CAFÉ MÜLLER" = "Café Müller". Existing rows get their key here. Older SQLite databases
may hold two customers that now share a key (SQLite's lower() folded only ASCII, so "ÓPTICA" and "Óptica"
both got in): the later one keeps its name and gets the key of "NAME (ID)", so nothing is lost and
`listener customer show "NAME (ID)"` reaches it (rename or remove it from there).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 23:50:00
"""

import sys
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from listener.names import name_key

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fill_keys(table: str, scope: str | None) -> None:
    """Compute every row's key in Python (the databases cannot fold Unicode alike); a clash gets "NAME (ID)"."""
    connection = op.get_bind()
    columns = "id, name" + (f", {scope}" if scope else "")
    taken: set[tuple[object, str]] = set()
    for row in connection.execute(sa.text(f"SELECT {columns} FROM {table} ORDER BY id")).all():
        group = row[2] if scope else None
        key = name_key(row.name)
        if (group, key) in taken:
            key = name_key(f"{row.name} ({row.id})")
            print(f"note: {table} #{row.id} {row.name!r} has the same name as another; use {row.name} ({row.id})", file=sys.stderr)
        taken.add((group, key))
        connection.execute(sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id"), {"key": key, "id": row.id})


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX, never a batch table copy: on SQLite, copying `customers` drops the
    # old table, and with foreign keys on that would cascade to every source, post and contact.
    op.add_column("customers", sa.Column("name_key", sa.Text(), nullable=False, server_default=""))
    op.add_column("customers", sa.Column("tier", sa.String(length=8), nullable=False, server_default="normal"))
    op.add_column("customers", sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("contacts", sa.Column("name_key", sa.Text(), nullable=False, server_default=""))
    op.add_column("contacts", sa.Column("language", sa.String(length=16), nullable=False, server_default=""))
    _fill_keys("customers", None)
    _fill_keys("contacts", "customer_id")
    op.create_index(op.f("ix_customers_name_key"), "customers", ["name_key"], unique=True)
    op.create_index("ix_contacts_customer_id_name_key", "contacts", ["customer_id", "name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_contacts_customer_id_name_key", table_name="contacts")
    op.drop_index(op.f("ix_customers_name_key"), table_name="customers")
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as above.
    for table, column in (("contacts", "language"), ("contacts", "name_key"), ("customers", "tags"), ("customers", "tier")):
        op.drop_column(table, column)
    op.drop_column("customers", "name_key")
