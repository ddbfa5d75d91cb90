"""feedback from the email: the feedback table and digest_pauses (one-click unsubscribe)

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from listener.db.schema import UTCDateTime


revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('item_key', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('insight_id', sa.Integer(), nullable=True),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('corrected_kind', sa.String(length=16), nullable=False),
        sa.Column('corrected_category', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_feedback_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['insight_id'], ['insights.id'], name=op.f('fk_feedback_insight_id_insights'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_feedback_post_id_posts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_feedback_rep_id_reps'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
        sa.UniqueConstraint('rep_id', 'item_key', 'action', name=op.f('uq_feedback_rep_id')),
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_rep_id'), ['rep_id'], unique=False)
    op.create_table(
        'digest_pauses',
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('paused_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_digest_pauses_rep_id_reps'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rep_id', name=op.f('pk_digest_pauses')),
    )


def downgrade() -> None:
    op.drop_table('digest_pauses')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_rep_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_customer_id'))
    op.drop_table('feedback')
