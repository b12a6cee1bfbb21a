"""badge consent: pending until the earner accepts, profile opt-in, LinkedIn organisation

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 06:45:00

Badges issued before this revision were already public at their hosted address, and
employers may hold their links: they are recorded as accepted (not listed on any profile),
so that no link breaks. Every badge issued from now on waits for its earner (SHR-01).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTERs (no batch rebuild): SQLite adds a column with a constant default in place.
    op.add_column('assertions', sa.Column('consent', sa.String(length=16), server_default='pending', nullable=False))
    op.add_column('assertions', sa.Column('on_profile', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('assertions', sa.Column('earner_name', sa.String(length=16), server_default='none', nullable=False))
    op.add_column('assertions', sa.Column('consent_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE assertions SET consent = 'accepted'")
    op.add_column('users', sa.Column('profile_public', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('structures', sa.Column('linkedin_organization_id', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('structures', schema=None) as batch_op:
        batch_op.drop_column('linkedin_organization_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('profile_public')
    with op.batch_alter_table('assertions', schema=None) as batch_op:
        batch_op.drop_column('consent_changed_at')
        batch_op.drop_column('earner_name')
        batch_op.drop_column('on_profile')
        batch_op.drop_column('consent')
