"""municipality.candidates: the places an ambiguous identity may be

An ambiguous side keeps its candidates ("ags:03255016;ags:05754012…" from the official register,
"gn:2906078" for a gazetteer pick the resolver itself doubted) instead of a confident wrong
answer.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COMMENT = "where ambiguous: the candidate places ('ags:…' official, 'gn:…' gazetteer), ';'-separated"


def upgrade() -> None:
    with op.batch_alter_table('municipality') as batch:
        batch.add_column(sa.Column('candidates', sa.Text(), nullable=True, comment=COMMENT))


def downgrade() -> None:
    with op.batch_alter_table('municipality') as batch:
        batch.drop_column('candidates')
