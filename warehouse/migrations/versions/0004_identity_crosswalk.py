"""Stable identities: surrogate municipality ids, the identifier crosswalk, register attributes

Until now `municipality_id` was the resolver's answer (`gn:<GeoNames id>`, `wd:<QID>`,
`nm:<ISO2>:<name>`), so a better resolver ended and reopened partnerships. Every identity gets
a surrogate id (`m:00000001`, in the order of the old ids); the old id becomes evidence in
`municipality_identifier` (scheme geonames / wikidata / name), next to the GeoNames id, QID and
AGS the row held. Provenance and partnership rows are re-keyed in place: `valid_from`,
`first_seen` and all history are kept, and the row hashes are recomputed for the new keys, so
the next run sees no change where the facts did not change.

Revision ID: 0004
Revises: 0003
"""
import hashlib
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SCHEME_OF_KEY = {'gn': 'geonames', 'wd': 'wikidata', 'nm': 'name'}
# Frozen copies of the hashed column lists at this revision (schemas.warehouse may change later).
PARTNERSHIP_VERSIONED = ['municipality_a_id', 'municipality_b_id', 'relation_type', 'start_year', 'end_year']
ASSERTION_TRACKED = ['partnership_key', 'raw_name_a', 'raw_name_b', 'raw_country_a', 'raw_country_b',
                     'relation_type', 'start_raw', 'start_year', 'end_year', 'reference_url', 'source_url']
MIGRATION_RUN = 'migration 0004'


def _text(value):
    if value is None:
        return '\x00'
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _hash(row, columns):
    """Same as schemas.warehouse.row_hash for one row of plain values."""
    return hashlib.sha256('\x1f'.join(_text(row[c]) for c in columns).encode()).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        'municipality_identifier',
        sa.Column('scheme', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('municipality_id', sa.String(length=200), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False,
                  comment="how it was attached: the match method, or 'merge'"),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False, comment='last attached or re-pointed'),
        sa.Column('load_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('scheme', 'value'),
    )
    op.create_index('ix_municipality_identifier_target', 'municipality_identifier', ['municipality_id'])
    op.create_table(
        'municipality_redirect',
        sa.Column('from_id', sa.String(length=200), nullable=False),
        sa.Column('to_id', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('redirected_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('load_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('from_id'),
    )
    with op.batch_alter_table('municipality') as batch:
        batch.add_column(sa.Column('merged_into', sa.String(length=200), nullable=True,
                                   comment='the identity this one was found to duplicate; NULL for live identities'))
        batch.add_column(sa.Column('official_name', sa.Text(), nullable=True,
                                   comment="as the official register writes it ('Halle (Westf.), Stadt')"))
        batch.add_column(sa.Column('region_name', sa.Text(), nullable=True,
                                   comment='first-level region from the register (Land)'))
        batch.add_column(sa.Column('district_name', sa.Text(), nullable=True,
                                   comment='district from the register (Kreis)'))
        batch.add_column(sa.Column('postcode', sa.String(length=10), nullable=True,
                                   comment='postcode of the seat, from the register'))

    now = datetime.now(timezone.utc)
    rows = bind.execute(sa.text('SELECT municipality_id, geonames_id, wikidata_qid, ags, match_method, match_score '
                                'FROM municipality ORDER BY municipality_id')).mappings().all()
    new_id = {row['municipality_id']: f'm:{number:08d}' for number, row in enumerate(rows, start=1)}
    identifiers = {}
    for row in rows:  # each old id is its identity's own evidence first …
        prefix, _, value = row['municipality_id'].partition(':')
        if prefix in SCHEME_OF_KEY and value:
            identifiers.setdefault((SCHEME_OF_KEY[prefix], value), row)
    for row in rows:  # … then what the rows held besides (a QID already owned stays with its owner)
        for column, scheme in (('geonames_id', 'geonames'), ('wikidata_qid', 'wikidata'), ('ags', 'ags')):
            if row[column] is not None and str(row[column]):
                identifiers.setdefault((scheme, str(row[column])), row)
    if identifiers:
        bind.execute(sa.text(
            'INSERT INTO municipality_identifier (scheme, value, municipality_id, method, score, first_seen, '
            'changed_at, load_id) VALUES (:scheme, :value, :mid, :method, :score, :now, :now, :run)'),
            [{'scheme': scheme, 'value': value, 'mid': new_id[row['municipality_id']],
              'method': (row['match_method'] or 'none')[:20], 'score': row['match_score'], 'now': now,
              'run': MIGRATION_RUN} for (scheme, value), row in identifiers.items()])
    if new_id:
        bind.execute(sa.text('UPDATE municipality SET municipality_id = :new WHERE municipality_id = :old'),
                     [{'new': new, 'old': old} for old, new in new_id.items()])

    def mapped(value):
        return new_id.get(value, value)

    sources = bind.execute(sa.text(
        'SELECT source, record_key, ' + ', '.join(ASSERTION_TRACKED) + ' FROM partnership_source')).mappings().all()
    updates = []
    for row in sources:
        row = dict(row)
        first, _, second = row['partnership_key'].partition('|')  # old ids hold no '|'
        low, high = sorted((mapped(first), mapped(second)))
        row['partnership_key'] = f'{low}|{high}'
        row['row_hash'] = _hash(row, ASSERTION_TRACKED)
        updates.append(row)
    if updates:
        bind.execute(sa.text(
            'UPDATE partnership_source SET partnership_key = :partnership_key, row_hash = :row_hash '
            'WHERE source = :source AND record_key = :record_key'), updates)

    versions = bind.execute(sa.text(
        'SELECT partnership_key, valid_from, municipality_a_id, municipality_b_id, relation_type, start_year, '
        'end_year FROM partnership')).mappings().all()
    updates = []
    for row in versions:
        row = dict(row)
        low, high = sorted((mapped(row['municipality_a_id']), mapped(row['municipality_b_id'])))
        row.update(old_key=row['partnership_key'], municipality_a_id=low, municipality_b_id=high,
                   partnership_key=f'{low}|{high}')
        row['row_hash'] = _hash(row, PARTNERSHIP_VERSIONED)
        updates.append(row)
    if updates:
        bind.execute(sa.text(
            'UPDATE partnership SET partnership_key = :partnership_key, municipality_a_id = :municipality_a_id, '
            'municipality_b_id = :municipality_b_id, row_hash = :row_hash '
            'WHERE partnership_key = :old_key AND valid_from = :valid_from'), updates)


def downgrade() -> None:
    raise NotImplementedError('0004 replaced match-derived ids by surrogates; restore a backup to go back')
