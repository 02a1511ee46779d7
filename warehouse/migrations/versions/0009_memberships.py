"""Memberships, the second domain: `membership_source` (provenance), `membership` (SCD2),
`organisation` (the city networks, SCD2) and the views `networks_per_municipality` and
`members_per_network_country`

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NETWORKS_PER_MUNICIPALITY = """
CREATE VIEW networks_per_municipality AS
SELECT m.municipality_id, mu.name AS member_name, mu.kind AS member_kind, mu.country_code, mu.ags,
       m.network, o.name_en AS network_name, o.acronym AS network_acronym,
       m.status, m.role, m.since_year, m.since_date, m.until_year, m.valid_from
FROM membership m
JOIN municipality mu ON mu.municipality_id = m.municipality_id
LEFT JOIN organisation o ON o.organisation_key = m.network AND o.is_current
WHERE m.is_current
"""

MEMBERS_PER_NETWORK_COUNTRY = """
CREATE VIEW members_per_network_country AS
SELECT m.network, o.name_en AS network_name, mu.country_code, mu.kind AS member_kind,
       COUNT(*) AS members,
       SUM(CASE WHEN m.status IN ('active', 'member') THEN 1 ELSE 0 END) AS listed_or_active
FROM membership m
JOIN municipality mu ON mu.municipality_id = m.municipality_id
LEFT JOIN organisation o ON o.organisation_key = m.network AND o.is_current
WHERE m.is_current
GROUP BY m.network, o.name_en, mu.country_code, mu.kind
"""


def _one_current(table: str, key: str) -> None:
    op.create_index(f'ux_{table}_one_current', table, [key], unique=True,
                    sqlite_where=sa.text('is_current = 1'), postgresql_where=sa.text('is_current'))


def upgrade() -> None:
    op.create_table(
        'membership',
        sa.Column('membership_key', sa.String(420), primary_key=True, comment="'<network>|<municipality_id>'"),
        sa.Column('valid_from', sa.DateTime(timezone=True), primary_key=True),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('network', sa.String(60), nullable=False,
                  comment="the network's key (organisation.organisation_key)"),
        sa.Column('municipality_id', sa.String(200), nullable=False,
                  comment="the member's identity; its kind (municipality, district, group …) is municipality.kind"),
        sa.Column('status', sa.String(20), nullable=False,
                  comment="active | suspended | former | member (listed, state unstated)"),
        sa.Column('role', sa.String(20), nullable=True, comment="full | associate, where a source states it"),
        sa.Column('since_year', sa.Integer(), nullable=True),
        sa.Column('since_date', sa.String(10), nullable=True, comment="ISO date, where a source states the day"),
        sa.Column('until_year', sa.Integer(), nullable=True),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    op.create_index('ix_membership_current', 'membership', ['is_current', 'membership_key'])
    op.create_index('ix_membership_member', 'membership', ['municipality_id'])
    _one_current('membership', 'membership_key')
    op.create_table(
        'membership_source',
        sa.Column('source', sa.String(60), primary_key=True),
        sa.Column('record_key', sa.String(600), primary_key=True),
        sa.Column('membership_key', sa.String(420), nullable=False),
        sa.Column('network', sa.String(60), nullable=False),
        sa.Column('municipality_id', sa.String(200), nullable=False),
        sa.Column('member_id', sa.Text(), nullable=True, comment="the source's own id of the member"),
        sa.Column('member_kind', sa.String(20), nullable=True, comment="as the source types the member"),
        sa.Column('raw_name', sa.Text(), nullable=True),
        sa.Column('raw_country', sa.Text(), nullable=True),
        sa.Column('country_code', sa.String(2), nullable=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('role', sa.String(20), nullable=True),
        sa.Column('since_raw', sa.Text(), nullable=True),
        sa.Column('since_date', sa.String(10), nullable=True),
        sa.Column('since_year', sa.Integer(), nullable=True),
        sa.Column('until_year', sa.Integer(), nullable=True),
        sa.Column('commitments', sa.Text(), nullable=True),
        sa.Column('source_url', sa.Text(), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    op.create_index('ix_membership_source_key', 'membership_source', ['membership_key'])
    op.create_index('ix_membership_source_load', 'membership_source', ['load_id'])
    op.create_table(
        'organisation',
        sa.Column('organisation_key', sa.String(60), primary_key=True, comment="the curated key in networks.yaml"),
        sa.Column('valid_from', sa.DateTime(timezone=True), primary_key=True),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False, comment="network | funder"),
        sa.Column('wikidata_qid', sa.String(20), nullable=True),
        sa.Column('name_en', sa.Text(), nullable=True),
        sa.Column('name_de', sa.Text(), nullable=True),
        sa.Column('acronym', sa.Text(), nullable=True),
        sa.Column('founded', sa.Integer(), nullable=True, comment="the earliest founding year a source states"),
        sa.Column('scope', sa.Text(), nullable=True),
        sa.Column('secretariat', sa.Text(), nullable=True),
        sa.Column('website', sa.Text(), nullable=True),
        sa.Column('themes', sa.Text(), nullable=True, comment="';'-separated"),
        sa.Column('admits', sa.Text(), nullable=True, comment="member kinds it admits, ';'-separated"),
        sa.Column('claims', sa.JSON(), nullable=False, comment="every fact with the source it comes from"),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    _one_current('organisation', 'organisation_key')
    op.execute(NETWORKS_PER_MUNICIPALITY)
    op.execute(MEMBERS_PER_NETWORK_COUNTRY)


def downgrade() -> None:
    op.execute("DROP VIEW members_per_network_country")
    op.execute("DROP VIEW networks_per_municipality")
    op.drop_table('organisation')
    op.drop_table('membership_source')
    op.drop_table('membership')
