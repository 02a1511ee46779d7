"""Deadlines are compared with the UTC date on both backends: `calls_closing_soon` and
`open_funding_calls` used PostgreSQL's CURRENT_DATE (the session's time zone) where SQLite's
date('now') is UTC, so the same data answered differently

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

CALLS_CLOSING_SOON = """
CREATE VIEW calls_closing_soon AS
SELECT call_key, title, programme, status, opens, closes, budget_eur, themes, call_url
FROM funding_call
WHERE is_current AND status IN ('open', 'forthcoming') AND closes >= {today} AND closes <= {in_60_days}
"""

OPEN_FUNDING_CALLS = """
CREATE VIEW open_funding_calls AS
SELECT call_key, call_identifier, title, programme, funder_key, status, opens, closes, deadlines, deadline_model,
       budget_eur, min_contribution_eur, max_contribution_eur, expected_grants, themes, call_url, valid_from
FROM funding_call
WHERE is_current AND status IN ('open', 'forthcoming') AND (closes IS NULL OR closes >= {today})
"""

UTC = {"postgresql": {"today": "to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')",
                      "in_60_days": "to_char((now() AT TIME ZONE 'UTC')::date + 60, 'YYYY-MM-DD')"},
       "sqlite": {"today": "date('now')", "in_60_days": "date('now', '+60 days')"}}
LOCAL = {"postgresql": {"today": "to_char(CURRENT_DATE, 'YYYY-MM-DD')",
                        "in_60_days": "to_char(CURRENT_DATE + 60, 'YYYY-MM-DD')"},
         "sqlite": UTC["sqlite"]}


def _recreate(dates: dict) -> None:
    days = dates["postgresql" if op.get_bind().dialect.name == "postgresql" else "sqlite"]
    op.execute("DROP VIEW calls_closing_soon")
    op.execute("DROP VIEW open_funding_calls")
    op.execute(CALLS_CLOSING_SOON.format(**days))
    op.execute(OPEN_FUNDING_CALLS.format(**days))


def upgrade() -> None:
    _recreate(UTC)


def downgrade() -> None:
    _recreate(LOCAL)
