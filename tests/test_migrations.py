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
    W.metadata.create_all(engine)  # how 0.1 pre-release warehouses were made
    with engine.begin() as conn:
        conn.execute(W.load_run.insert().values(run_id="r0", source="s", started_at=__import__("datetime").datetime(2026, 1, 1),
                                                status="loaded"))
    wh.create_schema(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
        assert conn.execute(W.load_run.select()).fetchall()[0].run_id == "r0"  # data kept
    engine.dispose()
