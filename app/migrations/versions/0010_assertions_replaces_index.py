"""assertions: index on replaces_id (the earner's pages ask, per badge, whether it is replaced)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 08:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_assertions_replaces_id', 'assertions', ['replaces_id'], unique=False)


def downgrade():
    op.drop_index('ix_assertions_replaces_id', table_name='assertions')
