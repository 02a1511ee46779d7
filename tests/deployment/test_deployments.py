"""The nightly deployment really schedules, and a worker elsewhere really runs it.

A deployment "works" only when a real server has created its scheduled runs: with SQLAlchemy
2.1 in this environment the server's scheduler failed every minute and none ever appeared.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.deployment.conftest import ROOT

pytestmark = pytest.mark.deployment


def deployments() -> list[dict]:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


def test_prefect_yaml_deployments_parse_and_their_entrypoints_import():
    from prefect.flows import load_flow_from_entrypoint

    by_name = {d["name"]: d for d in deployments()}
    assert set(by_name) == {"nightly", "replay"}
    for spec in by_name.values():
        flow = load_flow_from_entrypoint(spec["entrypoint"], use_placeholder_flow=False)
        accepted = set(flow.parameters.properties)
        assert set(spec["parameters"]) <= accepted, f"{spec['name']}: unknown parameters"
        assert "warehouse_url" not in accepted  # a setting of the worker, never a stored parameter
        for value in spec["parameters"].values():
            assert not (isinstance(value, str) and value.startswith("/")), "no paths of the deploying machine"
    [schedule] = by_name["nightly"]["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/Berlin")
    assert by_name["nightly"]["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}


def scheduled_runs(client, deployment_id):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))))


def test_the_scheduler_creates_upcoming_nightly_runs_at_two_in_berlin(prefect_server, client):
    nightly = client.read_deployment_by_name("citylinks-nightly/nightly")
    deadline = time.monotonic() + 120
    runs = scheduled_runs(client, nightly.id)
    while not runs and time.monotonic() < deadline:
        time.sleep(2)
        runs = scheduled_runs(client, nightly.id)
    log = prefect_server.log.read_text()
    assert "Can't evaluate bulk DML" not in log, log[-3000:]
    assert runs, "the server's scheduler created no run of the nightly deployment within 120 s"
    berlin = [r.expected_start_time.astimezone(ZoneInfo("Europe/Berlin")) for r in runs]
    assert all((t.hour, t.minute) == (2, 0) for t in berlin), berlin
    assert all(t > datetime.now(timezone.utc) for t in berlin)
    assert len({t.date() for t in berlin}) == len(berlin)  # one per night


def test_registered_deployments_carry_no_machine_paths_or_warehouse(client):
    for name in ("citylinks-nightly/nightly", "citylinks-nightly/replay"):
        deployment = client.read_deployment_by_name(name)
        assert deployment.entrypoint == "flows.nightly.nightly" and not deployment.pull_steps
        assert "warehouse_url" not in deployment.parameters
        assert str(ROOT) not in repr(deployment.parameters) + repr(deployment.pull_steps) + repr(deployment.path)
    nightly = client.read_deployment_by_name("citylinks-nightly/nightly")
    assert nightly.concurrency_options.collision_strategy.value == "CANCEL_NEW"


def run_on_worker(prefect_server, client, tmp_path, env: dict):
    """Start a run of the replay deployment and let a worker in another directory execute it."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment("citylinks-nightly/replay", parameters={"sources": ["wikipedia_twinning_sections"]},
                              timeout=0, client=None)
    elsewhere = tmp_path / "worker-cwd"
    elsewhere.mkdir()
    worker = prefect_server.prefect("worker", "start", "--pool", "citylinks-process", "--run-once",
                                    cwd=elsewhere, env=env, timeout=300)
    return client.read_flow_run(flow_run.id), worker


def test_a_worker_elsewhere_runs_the_deployment_with_the_warehouse_from_its_environment(prefect_server, client,
                                                                                       tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = f"sqlite:///{tmp_path / 'worker-warehouse.db'}"
    with temporary_settings({PREFECT_API_URL: prefect_server.api_url}):
        flow_run, worker = run_on_worker(prefect_server, client, tmp_path,
                                         {"CITYLINKS_WAREHOUSE_URL": url, "CITYLINKS_HOME": str(tmp_path / "home")})
    assert flow_run.state.is_completed(), worker.stdout[-3000:] + worker.stderr[-3000:]
    engine = create_engine(url)
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT status, rows_new FROM load_run WHERE source NOT LIKE '%:%' "
                                   "ORDER BY source")).fetchall()
    engine.dispose()
    assert [(status, new) for status, new in loaded] == [("loaded", 14)]


def test_a_worker_without_a_warehouse_setting_fails_the_run_in_one_line_naming_it(prefect_server, client, tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect_server.api_url}):
        flow_run, worker = run_on_worker(prefect_server, client, tmp_path, {"CITYLINKS_HOME": str(tmp_path / "home")})
    assert flow_run.state.is_failed()
    message = flow_run.state.message
    assert "CITYLINKS_WAREHOUSE_URL" in message and "citylinks-warehouse-url" in message and "\n" not in message
    assert not (tmp_path / "home" / "warehouse.db").exists()  # no silent default warehouse on a worker
