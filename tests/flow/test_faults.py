"""Fault suite: a live run against a loopback server that plays the recordings, with one source
broken in each way a real source breaks. For each: the message, the other source loaded, the
broken source's data unchanged, and its `load_run` row with status and reason — on SQLite and
PostgreSQL."""
from __future__ import annotations

import contextlib
import json
import time

import pandas as pd
import pytest

from extractors import wikidata_twinnings as wd
from flows.nightly import nightly
from tests.fault_server import Fault, FaultServer
from tests.support import BACKENDS, BUNDLED, load_runs, postgres_schema, postgres_url, warehouse_content

pytestmark = pytest.mark.flow
BROKEN, HEALTHY = "wikidata_twinnings", "wikipedia_twinning_sections"
ORIGINS = ["https://query.wikidata.org", "https://en.wikipedia.org"]
HTML = {"Content-Type": "text/html; charset=utf-8"}
SPARQL = {"Content-Type": "application/sparql-results+json"}

FAULTS = {  # name → (fault, expected fragment of the reason, extra environment)
    "http-500": (Fault(status=500, body=b"Internal Server Error", headers=HTML), "HTTP 500", {}),
    "http-503-retry-after": (Fault(status=503, body=b"busy", headers={**HTML, "Retry-After": "1"}),
                             "HTTP 503 from https://query.wikidata.org/sparql after 3 attempts", {}),
    "http-429": (Fault(status=429, body=b"Too many requests", headers={**HTML, "Retry-After": "1"}), "HTTP 429", {}),
    "slow-past-timeout": (Fault(delay=2.5), "timed out (connect 2s / read 1s)", {}),
    "connection-reset": (Fault(reset=True), "after 3 attempts: connection failed", {}),
    "truncated-body": (Fault(truncate=True), "reading the body failed", {}),
    "wrong-content-type": (Fault(body=b"<html><h1>Service unavailable</h1></html>", headers=HTML),
                           "answered text/html, expected application/sparql-results+json", {}),
    "changed-layout": (Fault(body=json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": [
        {"item": {"type": "uri", "value": "http://www.wikidata.org/entity/Q1"}}]}}).encode(), headers=SPARQL),
                       "lacks variables", {}),
    "empty-result": (Fault(body=json.dumps({"head": {"vars": ["city", "cityLabel", "partner", "partnerLabel"]},
                                            "results": {"bindings": []}}).encode(), headers=SPARQL),
                     "has no rows", {}),
    "oversized-body": (Fault(), "exceeds the 1000000-byte limit", {"CITYLINKS_HTTP_MAX_BYTES": "1000000"}),
    "redirect-loop": (Fault(redirect_to_self=True), "redirect loop", {}),
}


@pytest.fixture(scope="module")
def server():
    srv = FaultServer(BUNDLED)
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def loaded_warehouse(request, tmp_path_factory, server):
    """A warehouse after one healthy live run through the fault server (both sources loaded)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'w.db'}"
        else:
            url = postgres_url(stack.enter_context(postgres_schema()))
        state = live_run(url, server, tmp_path_factory.mktemp("home"))
        assert state.is_completed(), state.message
        yield url


def live_run(url, server, home, extra_env=None):
    options = json.loads((BUNDLED / "options.json").read_text())
    env = {"CITYLINKS_WAREHOUSE_URL": url, "CITYLINKS_HOME": str(home),
           "CITYLINKS_HTTP_ROUTES": json.dumps(server.routes(ORIGINS)), "CITYLINKS_HTTP_TIMEOUT": "2,1",
           "CITYLINKS_HTTP_RETRIES": "2", "CITYLINKS_HTTP_BACKOFF": "0", "CITYLINKS_HTTP_MIN_INTERVAL": "0",
           "CITYLINKS_FETCH_RETRY_DELAYS": "", **(extra_env or {})}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return nightly(sources=[BROKEN, HEALTHY], mode="live", source_options={HEALTHY: options[HEALTHY]},
                       return_state=True)


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_broken_source_fails_alone_with_its_reason_and_keeps_its_data(name, loaded_warehouse, server, tmp_path):
    fault, expected, env = FAULTS[name]
    before = warehouse_content(loaded_warehouse)
    server.inject(wd.ENDPOINT, fault)
    started = time.monotonic()
    try:
        state = live_run(loaded_warehouse, server, tmp_path, env)
    finally:
        server.inject(wd.ENDPOINT, None)
    assert state.is_failed() and state.message.startswith(f"1 of 2 sources failed: {BROKEN} (")
    runs = load_runs(loaded_warehouse)
    this_run = runs[runs["run_id"] == str(state.state_details.flow_run_id)].set_index("source")
    assert this_run.loc[BROKEN, "status"] == "failed"
    assert expected in this_run.loc[BROKEN, "message"], this_run.loc[BROKEN, "message"]
    assert "\n" not in this_run.loc[BROKEN, "message"] and len(this_run.loc[BROKEN, "message"]) < 700
    assert this_run.loc[HEALTHY, "status"] == "loaded" and this_run.loc[HEALTHY, "rows_unchanged"] == 14
    after = warehouse_content(loaded_warehouse)
    for table in ("municipality", "partnership", "partnership_source", "quarantine"):  # no row rewritten
        pd.testing.assert_frame_equal(after[table], before[table], check_dtype=False, obj=table)
    if name == "http-503-retry-after":
        assert time.monotonic() - started >= 2  # Retry-After honoured twice
