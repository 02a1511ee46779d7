"""Funding, the third domain: `funding_programme_source` (provenance, the source's own words and
the normalised facts with their evidence), `funding_programme` (SCD2), `funding_call_source` and
`funding_call` (SCD2); views `programmes_for_municipalities` (by theme) and `calls_closing_soon`

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

THEMES = ("partnership", "development_cooperation", "climate", "europe_citizenship", "integration", "ukraine", "youth",
          "culture", "middle_east", "maghreb", "governance")

#: Current programmes open to municipalities, one row per theme they carry (a programme without
#: a theme once, theme NULL). Same SQL on both backends.
PROGRAMMES_FOR_MUNICIPALITIES = """
CREATE VIEW programmes_for_municipalities AS
WITH t(theme) AS (VALUES {themes})
SELECT t.theme, p.programme_key, p.title, p.funder, p.region_level, p.laender, p.themes, p.amount_min_eur,
       p.amount_max_eur, p.own_contribution_pct, p.deadline, p.deadline_kind, p.programme_url
FROM funding_programme p
LEFT JOIN t ON (';' || replace(p.themes, ' ', '') || ';') LIKE ('%;' || t.theme || ';%')
WHERE p.is_current AND p.municipalities_eligible
""".format(themes=", ".join(f"('{theme}')" for theme in THEMES))

#: Open or forthcoming calls whose last deadline is within 60 days from today.
CALLS_CLOSING_SOON = """
CREATE VIEW calls_closing_soon AS
SELECT call_key, title, programme, status, opens, closes, budget_eur, themes, call_url
FROM funding_call
WHERE is_current AND status IN ('open', 'forthcoming') AND closes >= {today} AND closes <= {in_60_days}
"""


def upgrade() -> None:
    op.create_table(
        'funding_programme_source',
        sa.Column('source', sa.String(60), primary_key=True),
        sa.Column('record_key', sa.String(600), primary_key=True),
        sa.Column('programme_key', sa.String(420), nullable=False, comment="'<source>:<record_key>'"),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('funder', sa.Text(), nullable=True, comment='Fördergeber as the source writes it'),
        sa.Column('funder_key', sa.String(60), nullable=True, comment="the funder's organisation_key (schemas/funders.yaml), where its text names one"),
        sa.Column('funding_types', sa.Text(), nullable=True, comment="grant | loan | equity | guarantee | advice | in_kind | networking | prize | other, ';'-separated"),
        sa.Column('region_level', sa.String(10), nullable=True, comment='bund | land | eu | other'),
        sa.Column('laender', sa.Text(), nullable=True, comment="the Länder it is open in, ';'-separated (region_level land)"),
        sa.Column('eligible_classes', sa.Text(), nullable=True, comment="municipality | association | company | research | ngo | person | public_body, ';'-separated"),
        sa.Column('municipalities_eligible', sa.Boolean(), nullable=True),
        sa.Column('themes', sa.Text(), nullable=True, comment="partnership, development_cooperation, climate … ';'-separated"),
        sa.Column('amount_min_eur', sa.Float(), nullable=True),
        sa.Column('amount_max_eur', sa.Float(), nullable=True),
        sa.Column('funding_share_pct', sa.Float(), nullable=True),
        sa.Column('own_contribution_pct', sa.Float(), nullable=True),
        sa.Column('duration_months', sa.Integer(), nullable=True),
        sa.Column('deadline', sa.String(10), nullable=True, comment='ISO date of the (next) closing date, where stated'),
        sa.Column('deadline_kind', sa.String(10), nullable=True, comment='date | annual | rolling | ended'),
        sa.Column('programme_url', sa.Text(), nullable=True),
        sa.Column('funding_type', sa.Text(), nullable=True),
        sa.Column('areas', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=True),
        sa.Column('eligible', sa.Text(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('details', sa.Text(), nullable=True),
        sa.Column('legal_basis', sa.Text(), nullable=True),
        sa.Column('links', sa.Text(), nullable=True),
        sa.Column('evidence', sa.Text(), nullable=True, comment='JSON: per extracted fact the text span, rule and confidence it came from'),
        sa.Column('source_url', sa.Text(), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    op.create_table(
        'funding_programme',
        sa.Column('programme_key', sa.String(420), primary_key=True),
        sa.Column('valid_from', sa.DateTime(timezone=True), primary_key=True),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('funder', sa.Text(), nullable=True, comment='Fördergeber as the source writes it'),
        sa.Column('funder_key', sa.String(60), nullable=True, comment="the funder's organisation_key (schemas/funders.yaml), where its text names one"),
        sa.Column('funding_types', sa.Text(), nullable=True, comment="grant | loan | equity | guarantee | advice | in_kind | networking | prize | other, ';'-separated"),
        sa.Column('region_level', sa.String(10), nullable=True, comment='bund | land | eu | other'),
        sa.Column('laender', sa.Text(), nullable=True, comment="the Länder it is open in, ';'-separated (region_level land)"),
        sa.Column('eligible_classes', sa.Text(), nullable=True, comment="municipality | association | company | research | ngo | person | public_body, ';'-separated"),
        sa.Column('municipalities_eligible', sa.Boolean(), nullable=True),
        sa.Column('themes', sa.Text(), nullable=True, comment="partnership, development_cooperation, climate … ';'-separated"),
        sa.Column('amount_min_eur', sa.Float(), nullable=True),
        sa.Column('amount_max_eur', sa.Float(), nullable=True),
        sa.Column('funding_share_pct', sa.Float(), nullable=True),
        sa.Column('own_contribution_pct', sa.Float(), nullable=True),
        sa.Column('duration_months', sa.Integer(), nullable=True),
        sa.Column('deadline', sa.String(10), nullable=True, comment='ISO date of the (next) closing date, where stated'),
        sa.Column('deadline_kind', sa.String(10), nullable=True, comment='date | annual | rolling | ended'),
        sa.Column('programme_url', sa.Text(), nullable=True),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    op.create_index('ix_funding_programme_source_key', 'funding_programme_source', ['programme_key'])
    op.create_index('ix_funding_programme_source_load', 'funding_programme_source', ['load_id'])
    op.create_index('ux_funding_programme_one_current', 'funding_programme', ['programme_key'], unique=True,
                    sqlite_where=sa.text('is_current = 1'), postgresql_where=sa.text('is_current'))
    op.create_table(
        'funding_call_source',
        sa.Column('source', sa.String(60), primary_key=True),
        sa.Column('record_key', sa.String(600), primary_key=True),
        sa.Column('call_key', sa.String(420), nullable=False, comment="'<source>:<record_key>'"),
        sa.Column('call_identifier', sa.Text(), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('programme', sa.Text(), nullable=True, comment='the programme as the source names it (EU: frameworkProgramme)'),
        sa.Column('funder_key', sa.String(60), nullable=True, comment="the funder's organisation_key, where the source names one"),
        sa.Column('status', sa.String(12), nullable=True, comment='forthcoming | open | closed'),
        sa.Column('opens', sa.String(10), nullable=True, comment='ISO date'),
        sa.Column('closes', sa.String(10), nullable=True, comment='ISO date of the last deadline'),
        sa.Column('deadlines', sa.Text(), nullable=True, comment="every deadline, ISO dates ';'-separated"),
        sa.Column('deadline_model', sa.String(40), nullable=True),
        sa.Column('budget_eur', sa.Float(), nullable=True),
        sa.Column('min_contribution_eur', sa.Float(), nullable=True),
        sa.Column('max_contribution_eur', sa.Float(), nullable=True),
        sa.Column('expected_grants', sa.Integer(), nullable=True),
        sa.Column('themes', sa.Text(), nullable=True, comment="as for funding_programme, ';'-separated"),
        sa.Column('call_url', sa.Text(), nullable=True),
        sa.Column('status_raw', sa.String(40), nullable=True),
        sa.Column('types_of_action', sa.Text(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('languages', sa.Text(), nullable=True),
        sa.Column('source_url', sa.Text(), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    op.create_table(
        'funding_call',
        sa.Column('call_key', sa.String(420), primary_key=True),
        sa.Column('valid_from', sa.DateTime(timezone=True), primary_key=True),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('call_identifier', sa.Text(), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('programme', sa.Text(), nullable=True, comment='the programme as the source names it (EU: frameworkProgramme)'),
        sa.Column('funder_key', sa.String(60), nullable=True, comment="the funder's organisation_key, where the source names one"),
        sa.Column('status', sa.String(12), nullable=True, comment='forthcoming | open | closed'),
        sa.Column('opens', sa.String(10), nullable=True, comment='ISO date'),
        sa.Column('closes', sa.String(10), nullable=True, comment='ISO date of the last deadline'),
        sa.Column('deadlines', sa.Text(), nullable=True, comment="every deadline, ISO dates ';'-separated"),
        sa.Column('deadline_model', sa.String(40), nullable=True),
        sa.Column('budget_eur', sa.Float(), nullable=True),
        sa.Column('min_contribution_eur', sa.Float(), nullable=True),
        sa.Column('max_contribution_eur', sa.Float(), nullable=True),
        sa.Column('expected_grants', sa.Integer(), nullable=True),
        sa.Column('themes', sa.Text(), nullable=True, comment="as for funding_programme, ';'-separated"),
        sa.Column('call_url', sa.Text(), nullable=True),
        sa.Column('row_hash', sa.String(64), nullable=False),
        sa.Column('load_id', sa.String(64), nullable=False),
    )
    op.create_index('ix_funding_call_source_key', 'funding_call_source', ['call_key'])
    op.create_index('ix_funding_call_source_load', 'funding_call_source', ['load_id'])
    op.create_index('ux_funding_call_one_current', 'funding_call', ['call_key'], unique=True,
                    sqlite_where=sa.text('is_current = 1'), postgresql_where=sa.text('is_current'))
    op.execute(PROGRAMMES_FOR_MUNICIPALITIES)
    if op.get_bind().dialect.name == "postgresql":
        dates = {"today": "to_char(CURRENT_DATE, 'YYYY-MM-DD')", "in_60_days": "to_char(CURRENT_DATE + 60, 'YYYY-MM-DD')"}
    else:
        dates = {"today": "date('now')", "in_60_days": "date('now', '+60 days')"}
    op.execute(CALLS_CLOSING_SOON.format(**dates))


def downgrade() -> None:
    op.execute("DROP VIEW calls_closing_soon")
    op.execute("DROP VIEW programmes_for_municipalities")
    op.drop_table('funding_call')
    op.drop_table('funding_call_source')
    op.drop_table('funding_programme')
    op.drop_table('funding_programme_source')
