"""notifications: SMS and e-mail messages sent to a person, their attempts (no text, no address)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:30:00

The claim code (one_time_codes.kind = 'claim') needs no change: the kind is a VARCHAR(32)
without a CHECK constraint (non-native enum).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbound_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assertion_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['assertion_id'], ['assertions.id'], name=op.f('fk_outbound_notifications_assertion_id_assertions')),
    sa.ForeignKeyConstraint(['structure_id'], ['structures.id'], name=op.f('fk_outbound_notifications_structure_id_structures')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbound_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_notifications')),
    sa.UniqueConstraint('public_id', name=op.f('uq_outbound_notifications_public_id'))
    )
    with op.batch_alter_table('outbound_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_notifications_structure_id'), ['structure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_notifications_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbound_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_notifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_notifications_structure_id'))

    op.drop_table('outbound_notifications')
