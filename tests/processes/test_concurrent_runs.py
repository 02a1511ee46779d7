"""One run at a time per warehouse, whoever starts it: two real `citylinks run` processes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.processes.conftest import completed, wait_for
from tests.support import load_runs

pytestmark = pytest.mark.processes


def lock_holder(url: str) -> str | None:
    """The run id of the run holding the warehouse lock, seen from outside."""
    if url.startswith("sqlite"):
        info = Path(url.removeprefix("sqlite:///") + ".lock.json")
        try:
            return json.loads(info.read_text())["run_id"]
        except (OSError, ValueError):
            return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            name = conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'citylinks %'")).scalar()
    finally:
        engine.dispose()
    return name.split()[1] if name else None


def test_a_second_run_exits_4_naming_the_run_that_holds_the_warehouse(cli, warehouse_url):
    first = cli.start("run", "twincities_dataset", "--warehouse", warehouse_url)
    holder = wait_for(lambda: lock_holder(warehouse_url) or first.poll() is not None, 120, "the first run's lock")
    assert first.poll() is None, completed(first).stderr[-2000:]
    second = cli.run("run", "wikipedia_twinning_sections", "--warehouse", warehouse_url, "--wait", "0")
    assert second.returncode == 4, second.stderr[-2000:]
    assert "being loaded by another run" in second.stderr and holder in second.stderr
    assert "Traceback" not in second.stdout + second.stderr
    first.wait(timeout=300)
    assert first.returncode == 0, completed(first).stderr[-2000:]
    runs = load_runs(warehouse_url)
    assert list(runs["source"]) == ["twincities_dataset"]  # the refused run wrote nothing at all


def test_two_runs_started_together_load_one_after_the_other_and_count_once(cli, warehouse_url):
    """On a fresh warehouse both used to fail on a UNIQUE constraint, or both counted the same changes."""
    runs = [cli.start("run", "wikidata_twinnings", "--warehouse", warehouse_url, "--wait", "300") for _ in range(2)]
    for process in runs:
        process.wait(timeout=400)
        assert process.returncode == 0, completed(process).stderr[-2000:]
    audit = load_runs(warehouse_url)
    assert list(audit["status"]) == ["loaded", "loaded"]
    loadable = int(audit["rows_extracted"].iloc[0] - audit["rows_quarantined"].iloc[0] - audit["rows_duplicate"].iloc[0])
    assert loadable > 5700  # 5,758 rows in the recording, a few quarantined with their reasons
    assert sorted(audit["rows_new"]) == [0, loadable] and sorted(audit["rows_unchanged"]) == [0, loadable]
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        doubled = conn.execute(text("SELECT count(*) FROM (SELECT partnership_key FROM partnership WHERE is_current "
                                    "GROUP BY partnership_key HAVING count(*) > 1) d")).scalar()
        closed = conn.execute(text("SELECT count(*) FROM partnership WHERE NOT is_current")).scalar()
    engine.dispose()
    assert doubled == 0 and closed == 0  # no second current version, no spurious closed ones
