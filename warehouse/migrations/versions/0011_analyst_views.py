"""For analysts: the `source` table (licence and attribution per source) and the view
`partnership_sides` (one row per current partnership per side, with the sources stating it)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

#: "Twins of X" is one WHERE: each current pair twice, once from each side.
PARTNERSHIP_SIDES = """
CREATE VIEW partnership_sides AS
WITH stated AS (
    SELECT partnership_key, {sources} AS sources
    FROM partnership_source WHERE is_current GROUP BY partnership_key
), sides AS (
    SELECT partnership_key, municipality_a_id AS side_id, municipality_b_id AS partner_id, relation_type,
           start_year, end_year, valid_from FROM partnership WHERE is_current
    UNION ALL
    SELECT partnership_key, municipality_b_id, municipality_a_id, relation_type, start_year, end_year, valid_from
    FROM partnership WHERE is_current
)
SELECT s.partnership_key, s.side_id AS municipality_id, m.name AS municipality, m.kind, m.country_code, m.ags,
       m.region_name AS land, s.partner_id, o.name AS partner, o.kind AS partner_kind,
       o.country_code AS partner_country, o.region_name AS partner_land, s.relation_type, s.start_year AS since,
       s.end_year AS until, st.sources, s.valid_from
FROM sides s
JOIN municipality m ON m.municipality_id = s.side_id
JOIN municipality o ON o.municipality_id = s.partner_id
LEFT JOIN stated st ON st.partnership_key = s.partnership_key
"""


def upgrade() -> None:
    op.create_table(
        'source',
        sa.Column('source', sa.String(60), primary_key=True),
        sa.Column('domain', sa.String(20), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('licence', sa.Text(), nullable=False),
        sa.Column('attribution', sa.Text(), nullable=False),
        sa.Column('recorded', sa.Text(), nullable=True, comment='the date of the bundled recording'),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        sources = "string_agg(DISTINCT source, ',' ORDER BY source)"
    else:
        sources = "group_concat(DISTINCT source)"
    op.execute(PARTNERSHIP_SIDES.format(sources=sources))


def downgrade() -> None:
    op.execute("DROP VIEW partnership_sides")
    op.drop_table('source')
