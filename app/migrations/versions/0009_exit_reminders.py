"""exit reminders: notifications scheduled for later (due_at), and the index of the due query

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:00:00

Existing notifications keep due_at NULL: they were to be sent at once.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER (no batch rebuild), as in 0007: a nullable column needs no default.
    op.add_column('outbound_notifications', sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_outbound_notifications_due', 'outbound_notifications', ['sent_at', 'due_at'], unique=False)


def downgrade():
    op.drop_index('ix_outbound_notifications_due', table_name='outbound_notifications')
    with op.batch_alter_table('outbound_notifications', schema=None) as batch_op:
        batch_op.drop_column('due_at')
