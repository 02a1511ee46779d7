"""View `run_changes`: what each run changed — one row per relation version a run opened (new or
changed) or closed (ended), for partnerships, memberships, funding programmes and calls

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

#: (domain, versions table, key column, the consolidation's load_run source)
DOMAINS = (("partnership", "partnership", "partnership_key", "consolidate:partnership"),
           ("membership", "membership", "membership_key", "consolidate:membership"),
           ("funding_programme", "funding_programme", "programme_key", "consolidate:funding_programme"),
           ("funding_call", "funding_call", "call_key", "consolidate:funding_call"))

#: A run's versions carry its load_id (opened) or end at its boundary time (closed); a version
#: opened where another of the same key closed at the same instant is a change, not new + ended.
PART = """
SELECT r.run_id, r.started_at AS run_at, '{domain}' AS domain, v.{key} AS relation_key,
       CASE WHEN EXISTS (SELECT 1 FROM {table} w WHERE w.{key} = v.{key} AND w.valid_to = v.valid_from)
            THEN 'changed' ELSE 'new' END AS change
FROM load_run r JOIN {table} v ON v.load_id = r.run_id
WHERE r.source = '{step}'
UNION ALL
SELECT r.run_id, r.started_at, '{domain}', v.{key}, 'ended'
FROM load_run r JOIN {table} v ON v.valid_to = r.started_at
WHERE r.source = '{step}'
  AND NOT EXISTS (SELECT 1 FROM {table} w WHERE w.{key} = v.{key} AND w.valid_from = v.valid_to)
"""


def upgrade() -> None:
    parts = [PART.format(domain=domain, table=table, key=key, step=step) for domain, table, key, step in DOMAINS]
    op.execute("CREATE VIEW run_changes AS" + "\nUNION ALL".join(parts))


def downgrade() -> None:
    op.execute("DROP VIEW run_changes")
