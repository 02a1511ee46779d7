"""A run stopped in the middle of a load — SIGTERM (a `timeout`, a worker cancelling), Ctrl-C or
`kill -9` — leaves the warehouse exactly as before that source's load, says so in `load_run`,
and the next run completes to the same warehouse as an uninterrupted one."""
from __future__ import annotations

import signal
import time

import pandas as pd
import pytest

from tests.processes.conftest import Cli, alive, children, completed, kill, loading_now, wait_for
from tests.support import load_runs, warehouse_content

pytestmark = pytest.mark.processes
SMALL, BIG = "wikipedia_twinning_sections", "twincities_dataset"


def assert_same(actual: dict, expected: dict) -> None:
    for name in expected:
        pd.testing.assert_frame_equal(actual[name], expected[name], check_dtype=False, obj=name)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, prefect_api):
    """The reference: the small source, then the big one, nothing stopped (SQLite)."""
    tmp = tmp_path_factory.mktemp("reference")
    cli, url = Cli(tmp, prefect_api), f"sqlite:///{tmp / 'reference.db'}"
    for source in (SMALL, BIG):
        result = cli.run("run", source, "--warehouse", url)
        assert result.returncode == 0, result.stderr[-2000:]
    return warehouse_content(url)


def stop_mid_load(cli: Cli, url: str, sig) -> tuple[float, object]:
    process = cli.start("run", BIG, "--warehouse", url)
    wait_for(lambda: loading_now(url, process) or process.poll() is not None, 240, "the load transaction")
    assert process.poll() is None, completed(process).stderr[-2000:]
    started = time.monotonic()
    kill(process, sig)
    process.wait(timeout=30)
    return time.monotonic() - started, process


def test_stopped_mid_load_rolls_back_and_the_next_run_equals_an_uninterrupted_one(cli, warehouse_url,
                                                                                  uninterrupted):
    assert cli.run("run", SMALL, "--warehouse", warehouse_url).returncode == 0
    before = warehouse_content(warehouse_url)

    # SIGTERM, as `timeout` or a worker cancelling the flow run sends it
    seconds, process = stop_mid_load(cli, warehouse_url, signal.SIGTERM)
    assert seconds < 10 and process.returncode != 0, completed(process).stderr[-2000:]
    assert_same(warehouse_content(warehouse_url), before)
    audit = load_runs(warehouse_url).iloc[-1]
    assert (audit["source"], audit["status"]) == (BIG, "cancelled")
    assert "rolled back" in audit["message"] and "signal" in audit["message"]

    # kill -9: nothing runs on the way out; the transaction dies with the connection
    _, process = stop_mid_load(cli, warehouse_url, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    assert_same(warehouse_content(warehouse_url), before)
    killed = load_runs(warehouse_url).iloc[-1]
    assert (killed["source"], killed["status"]) == (BIG, "running")  # nobody could say otherwise

    rerun = cli.run("run", BIG, "--warehouse", warehouse_url)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    runs = load_runs(warehouse_url).set_index("run_id")
    assert runs.loc[killed["run_id"], "status"] == "aborted"  # marked by the next run, under the lock
    assert_same(warehouse_content(warehouse_url), uninterrupted)


def test_ctrl_c_mid_load_exits_130_and_marks_the_source_cancelled(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    seconds, process = stop_mid_load(cli, url, signal.SIGINT)
    result = completed(process)
    assert seconds < 10 and process.returncode == 130, result.stderr[-2000:]
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr
    audit = load_runs(url).iloc[-1]
    assert audit["status"] == "cancelled" and "SIGINT" in audit["message"]
    assert warehouse_content(url)["partnership"].empty


def test_no_prefect_server_outlives_a_killed_run(tmp_path):
    """Without PREFECT_API_URL the CLI starts a local API; kill -9 of the CLI must take it along."""
    cli = Cli(tmp_path, api_url=None)
    process = cli.start("run", SMALL, "--warehouse", f"sqlite:///{tmp_path / 'w.db'}")
    server = wait_for(lambda: children(process.pid) or process.poll() is not None, 120, "the local Prefect API")
    assert process.poll() is None, completed(process).stderr[-2000:]
    [server_pid] = server
    kill(process, signal.SIGKILL)
    process.wait(timeout=10)
    wait_for(lambda: not alive(server_pid), 10, f"the local Prefect API (pid {server_pid}) to stop")
