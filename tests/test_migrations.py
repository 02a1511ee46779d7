"""Alembic migrations produce exactly the tables of schemas/warehouse.py, on both backends."""
from datetime import datetime, timezone

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from schemas import warehouse as W
from tests.support import BACKENDS, postgres_schema, postgres_url
from warehouse import load as wh


def test_migrated_schema_matches_the_declared_tables(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, W.metadata) == []
        assert context.get_current_revision() is not None


def test_create_schema_is_idempotent(engine):
    wh.create_schema(engine)
    wh.create_schema(engine)
    assert set(W.PUBLIC_TABLES) <= set(inspect(engine).get_table_names())


def test_warehouse_made_before_migrations_is_stamped_not_recreated(tmp_path):
    engine = wh.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()  # revision 0001's tables, as 0.1 pre-release warehouses had them without alembic
    config.set_main_option("script_location", str(wh.MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.exec_driver_sql("DROP TABLE alembic_version")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO load_run (run_id, source, started_at, status, rows_extracted, rows_new, "
                             "rows_changed, rows_ended, rows_unchanged, rows_quarantined) "
                             "VALUES ('r0', 's', '2026-01-01 00:00:00', 'loaded', 7, 0, 0, 0, 0, 0)")
    wh.create_schema(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == wh.head_revision()  # stamped, upgraded
        [row] = conn.execute(W.load_run.select()).fetchall()
        assert (row.run_id, row.rows_extracted, row.rows_duplicate) == ("r0", 7, 0)  # data kept, new column 0
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def blank_engine(request, tmp_path):
    """An empty database on each backend, for migrating step by step."""
    if request.param == "sqlite":
        engine = wh.make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
        yield engine
        engine.dispose()
        return
    with postgres_schema() as schema:
        engine = create_engine(postgres_url(schema))
        yield engine
        engine.dispose()


def _upgrade(engine, revision):
    config = Config()
    config.set_main_option("script_location", str(wh.MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_history_per_run_migration_keeps_provenance_and_closes_a_duplicate_current_version(blank_engine):
    _upgrade(blank_engine, "0002")
    t0, t1 = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 2, tzinfo=timezone.utc)
    version = {"partnership_key": "a|b", "valid_to": None, "is_current": True, "municipality_a_id": "a",
               "municipality_b_id": "b", "relation_type": "unspecified", "row_hash": "h", "load_id": "r"}
    with blank_engine.begin() as conn:  # what per-source consolidation could leave: two current versions
        conn.execute(text("INSERT INTO partnership (partnership_key, valid_from, valid_to, is_current, "
                          "municipality_a_id, municipality_b_id, relation_type, row_hash, load_id) VALUES "
                          "(:partnership_key, :valid_from, :valid_to, :is_current, :municipality_a_id, "
                          ":municipality_b_id, :relation_type, :row_hash, :load_id)"),
                     [{**version, "valid_from": t0}, {**version, "valid_from": t1}])
        conn.execute(text("INSERT INTO partnership_source (source, record_key, partnership_key, relation_type, "
                          "source_url, first_seen, last_seen, is_current, row_hash, load_id) VALUES "
                          "('s', 'k', 'a|b', 'unspecified', 'https://x', :t0, :t1, :cur, 'h', 'r')"),
                     {"t0": t0, "t1": t1, "cur": True})
    wh.create_schema(blank_engine)
    with blank_engine.connect() as conn:
        rows = conn.execute(select(W.partnership).order_by(W.partnership.c.valid_from)).fetchall()
        [source_row] = conn.execute(select(W.partnership_source)).fetchall()
    assert [r.is_current for r in rows] == [False, True]
    closed_at = pd.Timestamp(rows[0].valid_to)
    assert (closed_at.tz_localize("UTC") if closed_at.tzinfo is None else closed_at) == pd.Timestamp(t1)
    changed = pd.Timestamp(source_row.changed_at)
    assert (changed.tz_localize("UTC") if changed.tzinfo is None else changed) == pd.Timestamp(t1)


def test_coverage_views_answer_on_both_backends(engine):
    load_one_pair_with_an_official_side(engine)
    by_land, by_size = wh.coverage(engine)
    assert len(by_land) == 16 and by_land.set_index("land").loc["Bayern", "rgre_count"] == 1170
    assert by_land.set_index("land").loc["Nordrhein-Westfalen", "partnerships"] == 1
    sizes = by_size.set_index("size_class")
    assert sizes.loc["4 100,000 and more", "with_partnership"] == 1 and sizes["municipalities"].sum() == 2


def load_one_pair_with_an_official_side(engine):
    from tests.test_identity_load import run

    with engine.begin() as conn:
        for ags, name, population in (("05315000", "Köln", 1_083_498), ("05711000", "Bielefeld", 333_509)):
            conn.execute(W.municipality.insert().values(
                municipality_id=f"m:{ags}", ags=ags, name=name, kind="municipality", country_code="DE",
                population=population, region_name="Nordrhein-Westfalen", match_method="register", match_score=1.0,
                match_status="resolved", first_load_id="r0", last_load_id="r0", row_hash="h"))
            conn.execute(W.municipality_identifier.insert().values(
                scheme="ags", value=ags, municipality_id=f"m:{ags}", method="register", first_seen=datetime.now(timezone.utc),
                changed_at=datetime.now(timezone.utc), load_id="r0"))
    run(engine, "r1", datetime(2026, 1, 1, tzinfo=timezone.utc),
        [("k1", ("ags:05315000", "Köln", None, None), ("nm:FR:lille", "Lille", None, None))])
