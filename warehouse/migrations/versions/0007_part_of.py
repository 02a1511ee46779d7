"""municipality.part_of: the official municipality a borough or locality belongs to

"Berlin – Pankow" is a borough of Berlin, "Wolfen" a locality of Bitterfeld-Wolfen: such sides
keep their own identity (a partnership of Pankow is Pankow's) and point at their municipality.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COMMENT = "the official municipality (municipality_id) this borough or locality belongs to"


def upgrade() -> None:
    with op.batch_alter_table('municipality') as batch:
        batch.add_column(sa.Column('part_of', sa.String(length=200), nullable=True, comment=COMMENT))


def downgrade() -> None:
    with op.batch_alter_table('municipality') as batch:
        batch.drop_column('part_of')
