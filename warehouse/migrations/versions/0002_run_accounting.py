"""load_run: rows_duplicate (exact copies collapsed), statuses cancelled and aborted

Every extracted row is now accounted for in the audit:
rows_extracted = rows_new + rows_changed + rows_unchanged + rows_quarantined + rows_duplicate.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

STATUS_COMMENT = 'running | loaded | failed | cancelled | aborted'


def upgrade() -> None:
    with op.batch_alter_table('load_run') as batch:
        batch.add_column(sa.Column('rows_duplicate', sa.Integer(), nullable=False, server_default='0',
                                   comment='exact copies of another extracted row, collapsed into it'))
    if op.get_bind().dialect.name != 'sqlite':  # SQLite keeps no comments
        op.alter_column('load_run', 'status', existing_type=sa.String(length=20), existing_nullable=False,
                        comment=STATUS_COMMENT, existing_comment='running | loaded | failed')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('load_run', 'status', existing_type=sa.String(length=20), existing_nullable=False,
                        comment='running | loaded | failed', existing_comment=STATUS_COMMENT)
    with op.batch_alter_table('load_run') as batch:
        batch.drop_column('rows_duplicate')
