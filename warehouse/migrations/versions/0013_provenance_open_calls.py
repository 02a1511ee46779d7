"""For analysts: `source.licence_id` (SPDX id of the licence), the view `provenance` (every
assertion of every domain with the licence and attribution to credit it) and the view
`open_funding_calls` (current calls open or forthcoming and not past their last deadline)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

#: (domain, provenance table, relation key column)
DOMAINS = (("partnership", "partnership_source", "partnership_key"),
           ("membership", "membership_source", "membership_key"),
           ("funding_programme", "funding_programme_source", "programme_key"),
           ("funding_call", "funding_call_source", "call_key"))

PROVENANCE_PART = """
SELECT '{domain}' AS domain, p.{key} AS relation_key, p.source, p.record_key, p.source_url, p.is_current,
       p.first_seen, p.changed_at, p.ended_at, s.licence_id, s.licence, s.attribution
FROM {table} p LEFT JOIN source s ON s.source = p.source
"""

OPEN_FUNDING_CALLS = """
CREATE VIEW open_funding_calls AS
SELECT call_key, call_identifier, title, programme, funder_key, status, opens, closes, deadlines, deadline_model,
       budget_eur, min_contribution_eur, max_contribution_eur, expected_grants, themes, call_url, valid_from
FROM funding_call
WHERE is_current AND status IN ('open', 'forthcoming') AND (closes IS NULL OR closes >= {today})
"""


def upgrade() -> None:
    op.add_column('source', sa.Column('licence_id', sa.String(60), nullable=True,
                                      comment='SPDX id (or LicenseRef-) of the licence, schemas/licences.py'))
    parts = [PROVENANCE_PART.format(domain=domain, table=table, key=key) for domain, table, key in DOMAINS]
    op.execute("CREATE VIEW provenance AS" + "\nUNION ALL".join(parts))
    today = "to_char(CURRENT_DATE, 'YYYY-MM-DD')" if op.get_bind().dialect.name == "postgresql" else "date('now')"
    op.execute(OPEN_FUNDING_CALLS.format(today=today))


def downgrade() -> None:
    op.execute("DROP VIEW open_funding_calls")
    op.execute("DROP VIEW provenance")
    with op.batch_alter_table('source') as batch:
        batch.drop_column('licence_id')
