"""Alembic migrations produce exactly the tables of schemas/warehouse.py, on both backends."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from schemas import warehouse as W
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
    W.metadata.create_all(engine)  # how 0.1 pre-release warehouses were made (revision 0001's tables)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE load_run DROP COLUMN rows_duplicate")  # added by 0002
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO load_run (run_id, source, started_at, status, rows_extracted, rows_new, "
                             "rows_changed, rows_ended, rows_unchanged, rows_quarantined) "
                             "VALUES ('r0', 's', '2026-01-01 00:00:00', 'loaded', 7, 0, 0, 0, 0, 0)")
    wh.create_schema(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0002"  # stamped 0001, upgraded
        [row] = conn.execute(W.load_run.select()).fetchall()
        assert (row.run_id, row.rows_extracted, row.rows_duplicate) == ("r0", 7, 0)  # data kept, new column 0
    engine.dispose()
