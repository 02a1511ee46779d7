"""One ephemeral Prefect API for the whole session, only for the flow tests (it takes seconds),
and one bundled run of everything that the tests reading its warehouse and report share."""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_api(tmp_path_factory):
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def bundled_warehouse(tmp_path_factory, prefect_api):
    """(engine, run_id, warehouse directory) of one replay of every bundled recording (SQLite)."""
    from sqlalchemy import text

    from flows.nightly import nightly
    from flows.settings import REPORT_DIR_ENV, WAREHOUSE_ENV
    from warehouse import load as wh

    directory = tmp_path_factory.mktemp("bundled")
    url = f"sqlite:///{directory / 'warehouse.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WAREHOUSE_ENV, url)
        patch.delenv(REPORT_DIR_ENV, raising=False)
        state = nightly(return_state=True, mode="replay")
    assert state.is_completed(), state.message
    engine = wh.make_engine(url)
    with engine.connect() as conn:
        run_id = conn.execute(text("SELECT run_id FROM load_run ORDER BY started_at DESC LIMIT 1")).scalar_one()
    yield engine, run_id, directory
    engine.dispose()
