"""History per run: one current version per pair, provenance rows not rewritten per run

- `partnership`: a partial unique index allows one current version per `partnership_key`
  (duplicates left by the old per-source consolidation are closed first, the newest kept);
- `partnership_source.last_seen` becomes `changed_at`: the time of the run that last wrote
  the row. A source's confirmation of its unchanged rows is its `load_run` row;
- `partnership_source.load_id` indexed: the end-of-run consolidation reads only the pairs the
  run touched.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CHANGED_COMMENT = ('the run that last wrote this row (new, changed, reasserted or ended); that a source still '
                   'states it is recorded per run in load_run, not by rewriting the row')


def upgrade() -> None:
    bind = op.get_bind()
    partnership = sa.table('partnership', sa.column('partnership_key', sa.String), sa.column('valid_from', sa.DateTime),
                           sa.column('valid_to', sa.DateTime), sa.column('is_current', sa.Boolean))
    newer = partnership.alias('newer')
    later = sa.select(newer.c.valid_from).where(
        newer.c.partnership_key == partnership.c.partnership_key, newer.c.is_current == sa.true(),
        newer.c.valid_from > partnership.c.valid_from).order_by(newer.c.valid_from).limit(1).scalar_subquery()
    bind.execute(partnership.update().where(partnership.c.is_current == sa.true(), later.is_not(None))
                 .values(is_current=False, valid_to=later))
    op.create_index('ux_partnership_one_current', 'partnership', ['partnership_key'], unique=True,
                    sqlite_where=sa.text('is_current = 1'), postgresql_where=sa.text('is_current'))
    with op.batch_alter_table('partnership_source') as batch:
        batch.alter_column('last_seen', new_column_name='changed_at', existing_type=sa.DateTime(timezone=True),
                           existing_nullable=False, comment=CHANGED_COMMENT)
        if bind.dialect.name != 'sqlite':
            batch.alter_column('first_seen', existing_type=sa.DateTime(timezone=True), existing_nullable=False,
                               comment='the run that first saw this row (run time)')
    op.create_index('ix_partnership_source_load', 'partnership_source', ['load_id'])


def downgrade() -> None:
    op.drop_index('ix_partnership_source_load', table_name='partnership_source')
    with op.batch_alter_table('partnership_source') as batch:
        batch.alter_column('changed_at', new_column_name='last_seen', existing_type=sa.DateTime(timezone=True),
                           existing_nullable=False, comment=None)
    op.drop_index('ux_partnership_one_current', table_name='partnership')
