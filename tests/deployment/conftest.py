"""A real `prefect server start` from the project's environment, with the deployments of
prefect.yaml registered: what a data engineer runs, not the test harness."""
from __future__ import annotations

import pytest

from tests.prefect_server import ROOT, PrefectServer  # noqa: F401 (ROOT re-exported for the tests)


@pytest.fixture(scope="package")
def prefect_server(tmp_path_factory):
    server = PrefectServer(tmp_path_factory.mktemp("prefect-server"))
    server.start()
    try:
        pool = server.prefect("work-pool", "create", "citylinks-process", "--type", "process")
        assert pool.returncode == 0, pool.stdout + pool.stderr
        deployed = server.prefect("--no-prompt", "deploy", "--all")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect_server.api_url}):
        with get_client(sync_client=True) as c:
            yield c
