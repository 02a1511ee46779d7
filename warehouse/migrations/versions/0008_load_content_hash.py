"""load_run.content_hash: what a source's load contained, so an identical snapshot is confirmed
without reading and comparing the source's provenance again

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COMMENT = "SHA-256 of the staged rows this load wrote (order-independent); equal to the last loaded run's = unchanged"


def upgrade() -> None:
    with op.batch_alter_table('load_run') as batch:
        batch.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True, comment=COMMENT))


def downgrade() -> None:
    with op.batch_alter_table('load_run') as batch:
        batch.drop_column('content_hash')
