"""assertions: replaces_id unique (a badge has one replacement at most, even when two re-issues race)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 08:00:00

Badges that replace nothing keep replaces_id NULL: a unique index allows many NULLs, on
SQLite as on PostgreSQL. Should a badge already have two replacements (the race this
closes), the upgrade stops and names them: which one stays is a person's decision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    twice = op.get_bind().execute(sa.text(
        "SELECT replaces_id FROM assertions WHERE replaces_id IS NOT NULL "
        "GROUP BY replaces_id HAVING COUNT(*) > 1 ORDER BY replaces_id"
    )).scalars().all()
    if twice:
        raise RuntimeError(
            "assertions replaced more than once (ids %s): revoke the extra replacements and "
            "clear their replaces_id, then upgrade again" % ", ".join(map(str, twice))
        )
    op.drop_index('ix_assertions_replaces_id', table_name='assertions')
    op.create_index('ix_assertions_replaces_id', 'assertions', ['replaces_id'], unique=True)


def downgrade():
    op.drop_index('ix_assertions_replaces_id', table_name='assertions')
    op.create_index('ix_assertions_replaces_id', 'assertions', ['replaces_id'], unique=False)
