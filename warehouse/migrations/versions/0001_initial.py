"""initial warehouse: municipality, partnership, partnership_source, load_run, quarantine

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 05:48:44.381211
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('load_run',
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False, comment='running | loaded | failed'),
    sa.Column('rows_extracted', sa.Integer(), nullable=False),
    sa.Column('rows_new', sa.Integer(), nullable=False),
    sa.Column('rows_changed', sa.Integer(), nullable=False),
    sa.Column('rows_ended', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('rows_quarantined', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id', 'source')
    )
    op.create_table('municipality',
    sa.Column('municipality_id', sa.String(length=200), nullable=False),
    sa.Column('geonames_id', sa.BigInteger(), nullable=True),
    sa.Column('wikidata_qid', sa.String(length=20), nullable=True),
    sa.Column('ags', sa.String(length=12), nullable=True, comment='Amtlicher Gemeindeschlüssel (German municipalities)'),
    sa.Column('name', sa.Text(), nullable=False, comment='canonical name (GeoNames) or the name as the source wrote it'),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='municipality | borough | district | region | association (from the name as written)'),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('admin1_code', sa.String(length=20), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('population', sa.BigInteger(), nullable=True),
    sa.Column('match_method', sa.String(length=20), nullable=False),
    sa.Column('match_score', sa.Float(), nullable=False),
    sa.Column('match_status', sa.String(length=20), nullable=False, comment='resolved | ambiguous | unresolved'),
    sa.Column('first_load_id', sa.String(length=64), nullable=False),
    sa.Column('last_load_id', sa.String(length=64), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('municipality_id')
    )
    op.create_table('partnership',
    sa.Column('partnership_key', sa.String(length=420), nullable=False, comment="'<municipality_id>|<municipality_id>', ids sorted"),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('municipality_a_id', sa.String(length=200), nullable=False),
    sa.Column('municipality_b_id', sa.String(length=200), nullable=False),
    sa.Column('relation_type', sa.String(length=30), nullable=False),
    sa.Column('start_year', sa.Integer(), nullable=True),
    sa.Column('end_year', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('load_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('partnership_key', 'valid_from')
    )
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.create_index('ix_partnership_current', ['is_current', 'partnership_key'], unique=False)

    op.create_table('partnership_source',
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('record_key', sa.String(length=600), nullable=False),
    sa.Column('partnership_key', sa.String(length=420), nullable=False),
    sa.Column('raw_name_a', sa.Text(), nullable=True),
    sa.Column('raw_name_b', sa.Text(), nullable=True),
    sa.Column('raw_country_a', sa.Text(), nullable=True),
    sa.Column('raw_country_b', sa.Text(), nullable=True),
    sa.Column('relation_type', sa.String(length=30), nullable=False),
    sa.Column('start_raw', sa.Text(), nullable=True),
    sa.Column('start_year', sa.Integer(), nullable=True),
    sa.Column('end_year', sa.Integer(), nullable=True),
    sa.Column('reference_url', sa.Text(), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('load_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('source', 'record_key')
    )
    with op.batch_alter_table('partnership_source', schema=None) as batch_op:
        batch_op.create_index('ix_partnership_source_pair', ['partnership_key'], unique=False)

    op.create_table('quarantine',
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('record_key', sa.String(length=600), nullable=True),
    sa.Column('raw_record', sa.JSON(), nullable=False),
    sa.Column('first_run_id', sa.String(length=64), nullable=False),
    sa.Column('quarantined_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'record_hash')
    )


def downgrade() -> None:
    op.drop_table('quarantine')
    with op.batch_alter_table('partnership_source', schema=None) as batch_op:
        batch_op.drop_index('ix_partnership_source_pair')

    op.drop_table('partnership_source')
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_index('ix_partnership_current')

    op.drop_table('partnership')
    op.drop_table('municipality')
    op.drop_table('load_run')
